# Reference numbers for tests/test_robust_groups.py: the robust ML estimators (MLR,
# MLM) of multi-group complete-data fits (also with group.equal), of models with
# exogenous observed covariates (fixed.x = TRUE), and the Satorra-Bentler (2001)
# scaled chi-square difference of the invariance steps and of equal structural paths.
#
# How to run (from the repository root; needs R with lavaan and jsonlite):
#     Rscript tests/reference/lavaan_robust_groups.R
# It writes tests/reference/lavaan_robust_groups.json, so the tests never need R.
# Data: lavaan's HolzingerSwineford1939 (the same 301 rows as semopy's holzinger39)
# and tests/reference/bfi_raw.csv (psych's bfi items with gender, written by
# lavaan_syntax.R; respondents with a missing item are left out listwise, as both
# lavaan and satisfaction do by default).
#
# lavaan's defaults (0.6.14) that these numbers depend on:
#   MLR: se = "robust.huber.white" (observed information, first-order scores at the
#        model-implied moments), test = "yuan.bentler.mplus" (unstructured h1).
#   MLM: se = "robust.sem" (expected information), test = "satorra.bentler".
#   group = : meanstructure TRUE; fixed.x = TRUE: the covariates' (co)variances and
#   means are fixed at their sample values and their elements of Gamma are zero.
# The optimiser is run further than lavaan's default: nlminb (rel.tol 1e-10) stops
# ~4e-5 short in the estimates (gradient ~3e-6), which moves chisq.scaled by ~2e-4
# in these fits, and a tighter nlminb rel.tol ends in "false convergence"; BFGS with
# reltol 1e-16 reaches gradients ~1e-7. At lavaan's default estimates the scaling
# factors agree with ours to 1e-9 (tests/test_robust_groups.py checks that too).

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

out_dir <- "tests/reference"
ctrl <- list(reltol = 1e-16, maxit = 20000L)
measures <- c("npar", "ntotal", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled",
              "pvalue.scaled", "chisq.scaling.factor", "baseline.chisq",
              "baseline.df", "baseline.chisq.scaled", "baseline.df.scaled",
              "baseline.pvalue.scaled", "baseline.chisq.scaling.factor",
              "cfi", "tli", "cfi.scaled", "tli.scaled", "cfi.robust", "tli.robust",
              "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
              "rmsea.scaled", "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled",
              "rmsea.robust", "rmsea.ci.lower.robust", "rmsea.ci.upper.robust",
              "srmr", "logl", "aic", "bic")

dump_fit <- function(fit, model) {
  pe <- parameterEstimates(fit)
  keep <- c("lhs", "op", "rhs", "group", "est", "se", "z", "pvalue", "ci.lower",
            "ci.upper")
  pe <- pe[, intersect(keep, names(pe))]
  list(model = model,
       estimator = lavInspect(fit, "options")$estimator,
       se = lavInspect(fit, "options")$se,
       test = lavInspect(fit, "options")$test,
       group_labels = lavInspect(fit, "group.label"),
       converged = lavInspect(fit, "converged"),
       max_gradient = max(abs(lavInspect(fit, "gradient"))),
       fit = as.list(fitMeasures(fit, measures)),
       parameters = pe,
       # delta-method SEs of the standardized solution from the robust vcov
       std = if (lavInspect(fit, "ngroups") == 1L)
         standardizedSolution(fit)[, c("lhs", "op", "rhs", "est.std", "se", "ci.lower",
                                       "ci.upper")] else NULL)
}

# Satorra-Bentler (2001) scaled difference, model f0 nested in f1
diff_test <- function(f1, f0) {
  a <- lavTestLRT(f1, f0, method = "satorra.bentler.2001")
  list(chisq_diff = a[2, "Chisq diff"], df_diff = a[2, "Df diff"],
       pvalue = a[2, "Pr(>Chisq)"])
}

hs <- HolzingerSwineford1939
hs_model <- paste(
  "visual =~ x1 + x2 + x3",
  "textual =~ x4 + x5 + x6",
  "speed =~ x7 + x8 + x9", sep = "\n")
# exogenous observed covariates (fixed.x): age in years and sex predict the factors
hs_exo <- paste(hs_model, "visual ~ ageyr + sex", "textual ~ ageyr", sep = "\n")
# a structural path for the equal-paths test across groups
hs_paths <- paste(hs_model, "speed ~ visual + textual", sep = "\n")

fits <- list()
difference <- list()
steps <- list(configural = "", metric = "loadings",
              scalar = c("loadings", "intercepts"),
              strict = c("loadings", "intercepts", "residuals"))
for (est in c("MLR", "MLM")) {
  e <- tolower(est)
  # 1. multi-group complete data, the four invariance steps by school
  step_fits <- lapply(steps, function(eq)
    cfa(hs_model, data = hs, group = "school", group.equal = eq, estimator = est, optim.method = "BFGS", control = ctrl))
  for (s in names(steps)) {
    fits[[paste0("hs_", s, "_", e)]] <- dump_fit(step_fits[[s]], hs_model)
  }
  difference[[paste0("hs_metric_", e)]] <- diff_test(step_fits$configural, step_fits$metric)
  difference[[paste0("hs_scalar_", e)]] <- diff_test(step_fits$metric, step_fits$scalar)
  difference[[paste0("hs_strict_", e)]] <- diff_test(step_fits$scalar, step_fits$strict)
  # 2. exogenous observed covariates: one group, and by school
  fits[[paste0("hs_exo_", e)]] <- dump_fit(sem(hs_exo, data = hs, estimator = est, optim.method = "BFGS", control = ctrl), hs_exo)
  fits[[paste0("hs_exo_groups_", e)]] <- dump_fit(
    sem(hs_exo, data = hs, group = "school", estimator = est, optim.method = "BFGS", control = ctrl), hs_exo)
  # 2b. one group, complete data, an intercept written in the model (mean structure)
  hs_intercept <- paste(hs_model, "x1 ~ 1", sep = "\n")
  fits[[paste0("hs_intercept_", e)]] <- dump_fit(
    cfa(hs_intercept, data = hs, estimator = est, optim.method = "BFGS", control = ctrl),
    hs_intercept)
  # 3. equal structural paths across groups (group.equal = "regressions")
  free <- sem(hs_paths, data = hs, group = "school", estimator = est, optim.method = "BFGS", control = ctrl)
  equal <- sem(hs_paths, data = hs, group = "school", group.equal = "regressions",
               estimator = est, optim.method = "BFGS", control = ctrl)
  fits[[paste0("hs_paths_", e)]] <- dump_fit(free, hs_paths)
  fits[[paste0("hs_paths_equal_", e)]] <- dump_fit(equal, hs_paths)
  difference[[paste0("hs_paths_", e)]] <- diff_test(free, equal)
}

# 3b. the same test with MLR and FIML (missing = "ml"): values deleted by the rule of
#     lavaan_robust.R
hs_miss <- hs
hs_miss$x1[hs_miss$id %% 7 == 0] <- NA
hs_miss$x5[hs_miss$id %% 11 == 0] <- NA
hs_miss$x9[hs_miss$id %% 13 == 0] <- NA
free <- sem(hs_paths, data = hs_miss, group = "school", missing = "ml", estimator = "MLR",
            optim.method = "BFGS", control = ctrl)
equal <- sem(hs_paths, data = hs_miss, group = "school", missing = "ml", estimator = "MLR",
             group.equal = "regressions", optim.method = "BFGS", control = ctrl)
fits$hs_paths_fiml_mlr <- dump_fit(free, hs_paths)
fits$hs_paths_equal_fiml_mlr <- dump_fit(equal, hs_paths)
difference$hs_paths_fiml_mlr <- diff_test(free, equal)

# 3c. MLR with FIML and the fixed.x covariates (complete), one group and by school
fits$hs_exo_fiml_mlr <- dump_fit(sem(hs_exo, data = hs_miss, missing = "ml",
                                     estimator = "MLR", optim.method = "BFGS",
                                     control = ctrl), hs_exo)
fits$hs_exo_groups_fiml_mlr <- dump_fit(sem(hs_exo, data = hs_miss, group = "school",
                                            missing = "ml", estimator = "MLR",
                                            optim.method = "BFGS", control = ctrl), hs_exo)

# 3d. invariance steps with MLR and FIML (configural, metric, scalar)
fiml_steps <- lapply(steps[1:3], function(eq)
  cfa(hs_model, data = hs_miss, group = "school", group.equal = eq, missing = "ml",
      estimator = "MLR", optim.method = "BFGS", control = ctrl))
for (s in names(fiml_steps)) {
  fits[[paste0("hs_", s, "_fiml_mlr")]] <- dump_fit(fiml_steps[[s]], hs_model)
}
difference$hs_metric_fiml_mlr <- diff_test(fiml_steps$configural, fiml_steps$metric)
difference$hs_scalar_fiml_mlr <- diff_test(fiml_steps$metric, fiml_steps$scalar)

# 3e. a defined parameter (:=) across groups: its delta-method SE from the robust vcov
hs_defined <- paste(hs_model, "speed ~ c(b1, b2)*visual + textual", "diff := b1 - b2",
                    sep = "\n")
fits$hs_defined_mlr <- dump_fit(sem(hs_defined, data = hs, group = "school",
                                    estimator = "MLR", optim.method = "BFGS",
                                    control = ctrl), hs_defined)

# lavaan's default optimiser on one of them: the formulas at lavaan's own estimates
fits$hs_exo_groups_mlr_default <- dump_fit(
  sem(hs_exo, data = hs, group = "school", estimator = "MLR"), hs_exo)

# 4. psych's bfi by gender (1 = male, 2 = female): the five-factor model, MLR
raw <- read.csv(file.path(out_dir, "bfi_raw.csv"))
bfi_model <- paste(
  "A =~ A1 + A2 + A3 + A4 + A5",
  "C =~ C1 + C2 + C3 + C4 + C5",
  "E =~ E1 + E2 + E3 + E4 + E5",
  "N =~ N1 + N2 + N3 + N4 + N5",
  "O =~ O1 + O2 + O3 + O4 + O5", sep = "\n")
fits$bfi_gender_mlr <- dump_fit(cfa(bfi_model, data = raw, group = "gender",
                                    estimator = "MLR", optim.method = "BFGS", control = ctrl), bfi_model)

res <- list(lavaan_version = as.character(packageVersion("lavaan")),
            fits = fits, difference = difference)
write_json(res, file.path(out_dir, "lavaan_robust_groups.json"), digits = NA,
           auto_unbox = TRUE, pretty = TRUE, na = "null")
