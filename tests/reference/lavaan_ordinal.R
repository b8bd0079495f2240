# Reference numbers for tests/test_ordinal.py: ordinal items analysed as lavaan
# does with ordered = and estimator = "WLSMV".
#
# How to run (from the repository root; needs R with lavaan and jsonlite):
#     Rscript tests/reference/lavaan_ordinal.R
# It reads tests/reference/bfi_raw.csv (psych's bfi, 6-point items) and
# ../shared/data/bank_satisfaction.csv (the ECSI bank data) and writes
# tests/reference/lavaan_ordinal.json, so the tests never need R.
#
# lavaan 0.6.14 defaults for estimator = "WLSMV" with every indicator ordered:
#   two-step thresholds and polychoric correlations (lavCor), NACOV from the
#   casewise scores (Muthen, 1984), WLS.V = diag(NACOV)^-1 (DWLS),
#   parameterization = "delta", se = "robust.sem", test = "scaled.shifted",
#   meanstructure = TRUE, thresholds free, intercepts and latent means 0.

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

out_dir <- "tests/reference"
raw <- read.csv(file.path(out_dir, "bfi_raw.csv"))
measures <- c("npar", "ntotal", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled",
              "pvalue.scaled", "chisq.scaling.factor", "chisq.shift.parameters",
              "baseline.chisq", "baseline.df", "baseline.chisq.scaled",
              "baseline.df.scaled", "baseline.chisq.scaling.factor",
              "cfi", "tli", "cfi.scaled", "tli.scaled", "cfi.robust", "tli.robust",
              "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.scaled",
              "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled", "rmsea.robust",
              "srmr", "srmr_bentler", "wrmr")

dump_fit <- function(fit, model) {
  pe <- parameterEstimates(fit, standardized = TRUE)
  keep <- c("lhs", "op", "rhs", "est", "se", "z", "pvalue", "ci.lower", "ci.upper",
            "std.lv", "std.all")
  fm <- fitMeasures(fit)
  fm <- fm[intersect(measures, names(fm))]
  list(model = model,
       estimator = lavInspect(fit, "options")$estimator,
       se = lavInspect(fit, "options")$se,
       test = lavInspect(fit, "options")$test,
       parameterization = lavInspect(fit, "options")$parameterization,
       converged = lavInspect(fit, "converged"),
       fit = as.list(fm),
       parameters = pe[, intersect(keep, names(pe))],
       # delta-method intervals of std.all from the robust covariance
       std = standardizedSolution(fit)[, c("lhs", "op", "rhs", "est.std", "se",
                                           "ci.lower", "ci.upper")])
}

# 1. Three factors of psych's bfi (agreeableness, conscientiousness,
#    extraversion), items as they are (A1, C4, C5, E1, E2 reverse-worded),
#    respondents who answered all fifteen items.
items <- paste0(rep(c("A", "C", "E"), each = 5), 1:5)
d <- raw[complete.cases(raw[, items]), items]
cfa_model <- paste(
  "A =~ A1 + A2 + A3 + A4 + A5",
  "C =~ C1 + C2 + C3 + C4 + C5",
  "E =~ E1 + E2 + E3 + E4 + E5", sep = "\n")
cfa_fit <- cfa(cfa_model, data = d, ordered = items, estimator = "WLSMV")

# the sample statistics: thresholds, polychoric matrix (lavCor's two-step)
# and the asymptotic covariance of (thresholds, correlations) DWLS weighs by
poly <- lavCor(d, ordered = items, output = "cor")
th <- lavInspect(cfa_fit, "sampstat")$th
gamma <- lavInspect(cfa_fit, "gamma")
wls_v <- lavInspect(cfa_fit, "wls.v")

# 2. A small structural model on the same items: a residual covariance and
#    two regressions (not equivalent to the CFA) with their product defined
#    (an indirect effect, delta-method SE), and a second ordinal data
#    set of four-category items (bfi's 6 categories collapsed 1-2, 3-4, 5, 6).
sem_model <- paste(cfa_model, "C ~ a*A", "E ~ b*C", "A2 ~~ A3", "ab := a*b", sep = "\n")
sem_fit <- sem(sem_model, data = d, ordered = items, estimator = "WLSMV")

small_items <- c("A1", "A2", "A3", "A4", "A5", "E1", "E2", "E3", "E4", "E5")
d4 <- d[, small_items]
for (v in small_items) d4[[v]] <- c(1, 1, 2, 2, 3, 4)[d4[[v]]]
two_model <- paste("A =~ A1 + A2 + A3 + A4 + A5", "E =~ E1 + E2 + E3 + E4 + E5",
                   sep = "\n")
two_fit <- cfa(two_model, data = d4, ordered = small_items, estimator = "WLSMV")

# 3. Binary items (agree = 5 or 6) of two factors: tetrachoric correlations.
bin_items <- c("C1", "C2", "C3", "C4", "C5", "E1", "E2", "E3", "E4", "E5")
d2 <- d[, bin_items]
for (v in bin_items) d2[[v]] <- as.integer(d2[[v]] >= 5)
bin_model <- paste("C =~ C1 + C2 + C3 + C4 + C5", "E =~ E1 + E2 + E3 + E4 + E5",
                   sep = "\n")
bin_fit <- cfa(bin_model, data = d2, ordered = bin_items, estimator = "WLSMV")

# 3b. The five-factor model of all 25 bfi items (listwise complete on them),
#    reverse-worded markers (A1) as they are: the largest ordinal model here.
items25 <- paste0(rep(c("A", "C", "E", "N", "O"), each = 5), 1:5)
d25 <- raw[complete.cases(raw[, items25]), items25]
five_model <- paste(cfa_model, "N =~ N1 + N2 + N3 + N4 + N5",
                    "O =~ O1 + O2 + O3 + O4 + O5", sep = "\n")
five_fit <- cfa(five_model, data = d25, ordered = items25, estimator = "WLSMV")

# 3c. Pairwise deletion (missing = "pairwise"): the ten A and E items with every
#    respondent who answered at least one of them (no listwise deletion).
pair_items <- c("A1", "A2", "A3", "A4", "A5", "E1", "E2", "E3", "E4", "E5")
dp <- raw[, pair_items]
dp <- dp[rowSums(!is.na(dp)) > 0, ]
pair_model <- paste("A =~ A1 + A2 + A3 + A4 + A5", "E =~ E1 + E2 + E3 + E4 + E5",
                    sep = "\n")
pair_fit <- cfa(pair_model, data = dp, ordered = pair_items, estimator = "WLSMV",
                missing = "pairwise")

# 3d. An equality constraint between two labelled loadings (a == b).
eq_model <- paste("A =~ A1 + A2 + a*A3 + b*A4 + A5", "E =~ E1 + E2 + E3 + E4 + E5",
                  "a == b", sep = "\n")
eq_fit <- cfa(eq_model, data = d[, pair_items], ordered = pair_items, estimator = "WLSMV")

# 3e. The other robust least-squares estimators for ordered data: ULSMV (ULS
#    estimates, scaled-and-shifted test) and WLSM (DWLS, Satorra-Bentler scaling).
uls_fit <- cfa(pair_model, data = d[, pair_items], ordered = pair_items, estimator = "ULSMV")
wlsm_fit <- cfa(pair_model, data = d[, pair_items], ordered = pair_items, estimator = "WLSM")

# 4. The ECSI bank model on the shared bank data (../shared/data, 250 respondents,
#    0-10 items): sparse 11-category tables, where lavaan's conventions matter
#    (a cell probability below sqrt(eps) counts as sqrt(eps)), and an improper
#    solution (a negative latent variance) that must be reproduced, not repaired.
bank <- read.csv(file.path("..", "shared", "data", "bank_satisfaction.csv"))
bank_model <- paste(
  "Image =~ imag1 + imag2 + imag3 + imag4 + imag5",
  "Expectation =~ expe1 + expe2 + expe3 + expe4 + expe5",
  "Quality =~ qual1 + qual2 + qual3 + qual4 + qual5",
  "Value =~ val1 + val2 + val3 + val4",
  "Satisfaction =~ sat1 + sat2 + sat3 + sat4",
  "Loyalty =~ loy1 + loy2 + loy3 + loy4",
  "Expectation ~ Image",
  "Quality ~ Expectation",
  "Value ~ Expectation + Quality",
  "Satisfaction ~ Image + Expectation + Quality + Value",
  "Loyalty ~ Image + Satisfaction", sep = "\n")
bank_items <- lavNames(lavaanify(bank_model), "ov")
bank_fit <- suppressWarnings(sem(bank_model, data = bank[, bank_items],
                                 ordered = bank_items, estimator = "WLSMV"))

# 5. lavaan's conventions for 2x2 tables (lavCor): one empty cell (0.5 moved onto
#    it keeping the margins), both thresholds 0 (closed form).
table_data <- function(freq) {
  cells <- expand.grid(a = 0:1, b = 0:1)
  data.frame(a = rep(cells$a, c(freq)), b = rep(cells$b, c(freq)))
}
empty_cell <- table_data(matrix(c(0, 9, 12, 19), 2))   # n11 = 0, n21 = 9, n12 = 12
balanced <- table_data(matrix(c(30, 20, 20, 30), 2))
binary_cases <- list(
  empty_cell = lavCor(empty_cell, ordered = c("a", "b"), output = "cor")[2, 1],
  balanced = lavCor(balanced, ordered = c("a", "b"), output = "cor")[2, 1])

res <- list(
  lavaan_version = as.character(packageVersion("lavaan")),
  n = nrow(d),
  items = items,
  thresholds = as.list(th),
  polychoric = unname(poly),
  gamma_diag = unname(diag(gamma)),
  gamma_block = unname(gamma[1:20, 1:120]),
  gamma_names = colnames(gamma),
  wls_v_diag = unname(diag(wls_v)),
  fits = list(cfa = dump_fit(cfa_fit, cfa_model),
              sem = dump_fit(sem_fit, sem_model),
              two = dump_fit(two_fit, two_model),
              bin = dump_fit(bin_fit, bin_model),
              bank = dump_fit(bank_fit, bank_model),
              five = dump_fit(five_fit, five_model),
              pair = dump_fit(pair_fit, pair_model),
              eq = dump_fit(eq_fit, eq_model),
              ulsmv = dump_fit(uls_fit, pair_model),
              wlsm = dump_fit(wlsm_fit, pair_model)),
  pair_n = nrow(dp),
  pair_polychoric = unname(lavInspect(pair_fit, "sampstat")$cov),
  bank_polychoric = unname(lavInspect(bank_fit, "sampstat")$cov),
  bank_items = bank_items,
  binary_cases = binary_cases,
  two_polychoric = unname(lavCor(d4, ordered = small_items, output = "cor")),
  two_thresholds = as.list(lavInspect(two_fit, "sampstat")$th))
write_json(res, file.path(out_dir, "lavaan_ordinal.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
