# Reference numbers for the FIML cases of tests/test_modindices.py and
# tests/test_scores.py: lavaan's modindices() (expected information of the
# extended model, casewise gradient) and lavPredict() (regression and Bartlett,
# each respondent scored from the items he answered) after missing = "ml" fits.
#
# How to run (from the repository root; needs R with lavaan and jsonlite):
#     Rscript tests/reference/lavaan_fiml_diagnostics.R
# It writes tests/reference/lavaan_fiml_diagnostics.json; the tests never need R.
#
# Data: HolzingerSwineford1939 with values deleted as in lavaan_fiml_means.R
# (x1 when id %% 7 == 0, x5 when id %% 11 == 0, x9 when id %% 13 == 0, the
# covariate ageyr when id %% 17 == 0), plus x2, x3 and x4 deleted together when
# id %% 29 == 0 so that some respondents answered one visual item only.

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

hs <- HolzingerSwineford1939
hs$x1[hs$id %% 7 == 0] <- NA
hs$x5[hs$id %% 11 == 0] <- NA
hs$x9[hs$id %% 13 == 0] <- NA
hs$ageyr[hs$id %% 17 == 0] <- NA
hs[hs$id %% 29 == 0, c("x2", "x3", "x4")] <- NA

cfa3 <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
covariates <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ ageyr + grade\ntextual ~ grade"

mi_dump <- function(fit) {
  mi <- modindices(fit, sort. = TRUE)
  if (lavInspect(fit, "ngroups") > 1) mi$group <- lavInspect(fit, "group.label")[mi$group]
  as.data.frame(mi)
}
est_dump <- function(fit) {
  pe <- parameterEstimates(fit)
  pe$group_label <- if (lavInspect(fit, "ngroups") > 1)
    lavInspect(fit, "group.label")[pe$group] else ""
  pe[, c("lhs", "op", "rhs", "group_label", "est")]
}
fs_dump <- function(fit, method) {
  fs <- lavPredict(fit, method = method)
  idx <- lavInspect(fit, "case.idx")
  if (is.list(fs)) {
    lab <- lavInspect(fit, "group.label")
    out <- do.call(rbind, lapply(seq_along(fs), function(g)
      data.frame(row = idx[[g]], group = lab[g], fs[[g]])))
  } else {
    out <- data.frame(row = idx, fs)
  }
  out[order(out$row), ]
}

single <- cfa(cfa3, data = hs, missing = "ml")
groups <- cfa(cfa3, data = hs, missing = "ml", group = "school")
cov_fit <- suppressWarnings(sem(covariates, data = hs, missing = "ml"))
res <- list(
  lavaan_version = as.character(packageVersion("lavaan")),
  models = list(cfa3 = cfa3, covariates = covariates),
  modindices = list(single = mi_dump(single), groups = mi_dump(groups),
                    covariates = mi_dump(cov_fit)),
  estimates = list(single = est_dump(single), groups = est_dump(groups)),
  scores = list(regression = fs_dump(single, "regression"),
                bartlett = fs_dump(single, "Bartlett"),
                groups = fs_dump(groups, "regression"),
                covariates = fs_dump(cov_fit, "regression")))
write_json(res, "tests/reference/lavaan_fiml_diagnostics.json", digits = NA,
           auto_unbox = TRUE, pretty = TRUE, na = "null")
