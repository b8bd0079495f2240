# Bootstrap standard errors and intervals from lavaan on FIXED resamples, for
# tests/test_model_bootstrap.py.
#
# lavaan's own bootstrap draws with R's RNG, so its draws cannot be ours. Instead
# tests/reference/lavaan_bootstrap_indices.py writes the resamples that
# satisfaction's fit(..., bootstrap = B, seed = SEED) draws (one line per draw,
# 0-based rows, groups one after another); this script refits lavaan on exactly
# those resamples, puts the estimates in place of lavaan's own bootstrap draws
# (fit@boot$coef) and lets lavaan compute the standard errors
# (lav_model_vcov_se with cov(COEF) * (B - 1) / B, as lav_model_nvcov_bootstrap)
# and parameterEstimates(boot.ci.type = "perc" / "bca.simple"). std.all intervals:
# the same interpolated quantiles (lavaan's norm.inter) of standardizedSolution()
# over the refits. BCa with jackknife acceleration (ours; lavaan 0.6-14's "bca"
# takes it from a regression on the resampling frequencies instead): the
# leave-one-out refits here give a = sum(d^3) / (6 sum(d^2)^1.5), d = mean - theta_(i).
#
#   .venv/bin/python tests/reference/lavaan_bootstrap_indices.py
#   Rscript tests/reference/lavaan_bootstrap.R
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})
out_dir <- "tests/reference"

norm_inter <- function(t, alpha) {  # lavaan's (and boot's) interpolated quantiles
  t <- sort(t[is.finite(t)])
  R <- length(t)
  sapply(alpha, function(a) {
    if (!is.finite(a)) return(NA)
    rk <- (R + 1) * a
    k <- trunc(rk)
    if (k <= 0) return(t[1])
    if (k >= R) return(t[R])
    if (k == rk) return(t[k])
    z <- qnorm(c(a, k / (R + 1), (k + 1) / (R + 1)))
    t[k] + (z[1] - z[2]) / (z[3] - z[2]) * (t[k + 1] - t[k])
  })
}
bca_limits <- function(t, t0, a, level = 0.95) {
  zalpha <- qnorm((1 + c(-level, level)) / 2)
  t <- t[is.finite(t)]
  if (length(t) < 2 || !is.finite(t0)) return(c(NA, NA))
  if (var(t) == 0) return(c(t0, t0))
  w <- qnorm(sum(t < t0) / length(t))
  norm_inter(t, pnorm(w + (w + zalpha) / (1 - a * (w + zalpha))))
}
accel <- function(J) apply(J, 2, function(x) {
  L <- mean(x) - x
  sum(L^3) / (6 * sum(L^2)^1.5)
})

run_case <- function(case, model, data, group = NULL, jackknife = FALSE) {
  idx <- as.matrix(read.csv(file.path(out_dir, sprintf("lavaan_bootstrap_%s_indices.csv", case)),
                            header = FALSE)) + 1L
  args <- list(model = model, data = data)
  if (!is.null(group)) args <- c(args, list(group = group, group.label = unique(data[[group]])))
  fit0 <- do.call("sem", args)
  refit <- function(rows) {
    a <- args
    a$data <- data[rows, ]
    f <- do.call("sem", a)
    stopifnot(lavInspect(f, "converged"))
    list(coef = coef(f), std = standardizedSolution(f)$est.std,
         def = if (any(parTable(f)$op == ":=")) f@Model@def.function(coef(f)) else NULL)
  }
  fits <- lapply(seq_len(nrow(idx)), function(b) refit(idx[b, ]))
  COEF <- do.call(rbind, lapply(fits, `[[`, "coef"))
  STD <- do.call(rbind, lapply(fits, `[[`, "std"))
  B <- nrow(COEF)
  set.seed(1)
  fitb <- suppressWarnings(do.call("sem", c(args, list(se = "bootstrap", bootstrap = 5L))))
  attributes(COEF) <- attributes(COEF)[c("dim", "dimnames")]
  fitb@boot$coef <- COEF
  se <- lavaan:::lav_model_vcov_se(fitb@Model, fitb@ParTable,
                                   VCOV = cov(COEF) * (B - 1) / B, BOOT = COEF)
  pe_perc <- parameterEstimates(fitb, boot.ci.type = "perc", remove.def = FALSE)
  pe_bcas <- parameterEstimates(fitb, boot.ci.type = "bca.simple", remove.def = FALSE)
  ss <- standardizedSolution(fit0)
  std_perc <- t(apply(STD, 2, norm_inter, c(0.025, 0.975)))
  std_bcas <- t(sapply(seq_len(ncol(STD)), function(j) bca_limits(STD[, j], ss$est.std[j], 0)))
  out <- data.frame(lhs = pe_perc$lhs, op = pe_perc$op, rhs = pe_perc$rhs,
                    group = if (is.null(group)) 1L else pe_perc$group,
                    est = pe_perc$est, se = se,
                    perc.lower = pe_perc$ci.lower, perc.upper = pe_perc$ci.upper,
                    bca.simple.lower = pe_bcas$ci.lower, bca.simple.upper = pe_bcas$ci.upper)
  std <- data.frame(lhs = ss$lhs, op = ss$op, rhs = ss$rhs,
                    group = if (is.null(group)) 1L else ss$group, est.std = ss$est.std,
                    perc.lower = std_perc[, 1], perc.upper = std_perc[, 2],
                    bca.simple.lower = std_bcas[, 1], bca.simple.upper = std_bcas[, 2])
  res <- list(model = model, draws = B, parameters = out, standardized = std,
              group_labels = if (is.null(group)) NULL else unique(data[[group]]),
              lavaan_version = as.character(packageVersion("lavaan")))
  if (jackknife) {
    n <- nrow(data)
    jf <- lapply(seq_len(n), function(i) refit(seq_len(n)[-i]))
    JC <- do.call(rbind, lapply(jf, `[[`, "coef"))
    JS <- do.call(rbind, lapply(jf, `[[`, "std"))
    a_coef <- accel(JC)
    a_std <- accel(JS)
    free <- which(fit0@ParTable$free > 0)
    bca <- matrix(out$est, nrow(out), 2)
    for (k in seq_along(free)) bca[free[k], ] <- bca_limits(COEF[, k], coef(fit0)[k], a_coef[k])
    def <- which(out$op == ":=")
    if (length(def)) {
      JD <- t(apply(JC, 1, fit0@Model@def.function))
      if (length(def) == 1L) JD <- t(JD)
      BD <- t(apply(COEF, 1, fit0@Model@def.function))
      if (length(def) == 1L) BD <- t(BD)
      a_def <- accel(t(JD))
      d0 <- fit0@Model@def.function(coef(fit0))
      for (k in seq_along(def)) bca[def[k], ] <- bca_limits(BD[k, ], d0[k], a_def[k])
    }
    res$parameters$bca.lower <- bca[, 1]
    res$parameters$bca.upper <- bca[, 2]
    std_bca <- t(sapply(seq_len(ncol(STD)), function(j)
      bca_limits(STD[, j], ss$est.std[j], if (is.finite(a_std[j])) a_std[j] else 0)))
    res$standardized$bca.lower <- std_bca[, 1]
    res$standardized$bca.upper <- std_bca[, 2]
  }
  write_json(res, file.path(out_dir, sprintf("lavaan_bootstrap_%s.json", case)),
             digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
}

single <- "
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ a*ind60
dem65 ~ c*ind60 + b*dem60
ind := a*b
"
cases <- commandArgs(TRUE)  # default: both
if (!length(cases)) cases <- c("single", "groups")
if ("single" %in% cases) run_case("single", single, PoliticalDemocracy, jackknife = TRUE)

hs <- HolzingerSwineford1939
hs <- rbind(hs[hs$school == "Pasteur", ], hs[hs$school == "Grant-White", ])
groups <- "
visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9
"
if ("groups" %in% cases) run_case("groups", groups, hs, group = "school")
