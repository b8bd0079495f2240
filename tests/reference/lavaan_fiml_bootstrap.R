# Bootstrap standard errors and intervals of full-information ML fits from lavaan
# (missing = "ml", se = "bootstrap") on FIXED resamples, for the FIML cases of
# tests/test_model_bootstrap.py. As in lavaan_bootstrap.R: lavaan's own draws use R's
# RNG, so tests/reference/lavaan_fiml_bootstrap_indices.py writes the resamples that
# satisfaction's fit(..., missing = "fiml", bootstrap = B, seed = SEED) draws (one
# line per draw, 0-based rows, groups one after another); this script refits lavaan
# with missing = "ml" on exactly those resamples (incomplete rows and all), puts the
# estimates in place of lavaan's own draws (fit@boot$coef) and lets lavaan compute
# the standard errors (cov(COEF) * (B - 1) / B) and the percentile and bca.simple
# intervals (parameterEstimates(boot.ci.type = ...)).
#
#   .venv/bin/python tests/reference/lavaan_fiml_bootstrap_indices.py
#   Rscript tests/reference/lavaan_fiml_bootstrap.R
#
# Data: HolzingerSwineford1939 (rows of Pasteur first, then Grant-White) with x9
# deleted when id %% 7 == 0, x5 when id %% 11 == 0 and x6 when id %% 13 == 0.
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})
out_dir <- "tests/reference"

hs <- HolzingerSwineford1939
hs <- rbind(hs[hs$school == "Pasteur", ], hs[hs$school == "Grant-White", ])
hs$x9[hs$id %% 7 == 0] <- NA
hs$x5[hs$id %% 11 == 0] <- NA
hs$x6[hs$id %% 13 == 0] <- NA
# the textual and speed factors: in resamples of the Pasteur school the weak visual
# factor has two local optima, which lavaan's default starts and our warm starts
# may reach differently (a comparison of optimisers, not of the bootstrap)
model <- "textual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"

run_case <- function(case, group = NULL) {
  idx <- as.matrix(read.csv(file.path(out_dir, sprintf("lavaan_fiml_bootstrap_%s_indices.csv",
                                                       case)), header = FALSE)) + 1L
  args <- list(model = model, data = hs, missing = "ml")
  if (!is.null(group)) args <- c(args, list(group = group, group.label = unique(hs[[group]])))
  refit <- function(rows) {
    a <- args
    a$data <- hs[rows, ]
    f <- do.call("cfa", a)
    stopifnot(lavInspect(f, "converged"))
    coef(f)
  }
  COEF <- do.call(rbind, lapply(seq_len(nrow(idx)), function(b) refit(idx[b, ])))
  B <- nrow(COEF)
  set.seed(1)
  fitb <- suppressWarnings(do.call("cfa", c(args, list(se = "bootstrap", bootstrap = 5L))))
  attributes(COEF) <- attributes(COEF)[c("dim", "dimnames")]
  fitb@boot$coef <- COEF
  se <- lavaan:::lav_model_vcov_se(fitb@Model, fitb@ParTable,
                                   VCOV = cov(COEF) * (B - 1) / B, BOOT = COEF)
  pe_perc <- parameterEstimates(fitb, boot.ci.type = "perc")
  pe_bcas <- parameterEstimates(fitb, boot.ci.type = "bca.simple")
  out <- data.frame(lhs = pe_perc$lhs, op = pe_perc$op, rhs = pe_perc$rhs,
                    group = if (is.null(group)) "" else
                      lavInspect(fitb, "group.label")[pe_perc$group],
                    est = pe_perc$est, se = se,
                    perc.lower = pe_perc$ci.lower, perc.upper = pe_perc$ci.upper,
                    bca.simple.lower = pe_bcas$ci.lower, bca.simple.upper = pe_bcas$ci.upper)
  res <- list(model = model, draws = B, group = if (is.null(group)) NA else group,
              coef = unname(COEF), coef_names = colnames(COEF),
              parameters = out, lavaan_version = as.character(packageVersion("lavaan")))
  write_json(res, file.path(out_dir, sprintf("lavaan_fiml_bootstrap_%s.json", case)),
             digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
}

cases <- commandArgs(TRUE)  # default: both
if (!length(cases)) cases <- c("single", "groups")
if ("single" %in% cases) run_case("single")
if ("groups" %in% cases) run_case("groups", group = "school")
