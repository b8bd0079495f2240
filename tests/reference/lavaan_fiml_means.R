# Reference numbers for tests/test_model_fiml_means.py: full-information ML
# (lavaan's missing = "ml") with exogenous observed covariates (fixed.x = TRUE:
# cases missing a covariate are deleted, the likelihood is conditional on the
# covariates), single-group and by school, and with intercepts written in the
# model ('x1 ~ 0*1', 'visual ~ 1'), and with an observed variable regressed on
# another (the intercept reported is the intercept, not the mean).
#
# How to run (from the repository root; needs R with lavaan and jsonlite):
#     Rscript tests/reference/lavaan_fiml_means.R
# It writes tests/reference/lavaan_fiml_means.json; the tests never need R.
#
# Data: HolzingerSwineford1939 with values deleted by the rule of
# lavaan_reference.R case 5 (x1 missing when id %% 7 == 0, x5 when id %% 11 == 0,
# x9 when id %% 13 == 0) and the covariate ageyr deleted when id %% 17 == 0
# (grade is missing once in the data itself).

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

measures <- c("npar", "ntotal", "chisq", "df", "pvalue", "cfi", "tli", "rmsea",
              "rmsea.ci.lower", "rmsea.ci.upper", "srmr", "aic", "bic", "logl",
              "baseline.chisq", "baseline.df")

hs <- HolzingerSwineford1939
hs$x1[hs$id %% 7 == 0] <- NA
hs$x5[hs$id %% 11 == 0] <- NA
hs$x9[hs$id %% 13 == 0] <- NA
hs$ageyr[hs$id %% 17 == 0] <- NA

covariates <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ ageyr + grade\ntextual ~ grade"
intercepts <- paste("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9",
                    "x1 ~ 0*1\nx4 ~ 0*1\nx7 ~ 0*1\nvisual ~ 1\ntextual ~ 1\nspeed ~ 1", sep = "\n")

# an observed variable regressed on another (endogenous) one: its intercept is not
# its mean
observed_paths <- "f =~ x1 + x2 + x3\nx4 ~ f\nx5 ~ x4"

dump <- function(fit, names) {
  pe <- parameterEstimates(fit)
  pe$group_label <- if (lavInspect(fit, "ngroups") > 1)
    lavInspect(fit, "group.label")[pe$group] else ""
  list(converged = lavInspect(fit, "converged"),
       deleted = fit@Data@norig[[1]] + (if (length(fit@Data@norig) > 1)
         fit@Data@norig[[2]] else 0) - lavInspect(fit, "ntotal"),
       fit = as.list(fitMeasures(fit, names)),
       parameters = pe[, c("lhs", "op", "rhs", "group_label", "est", "se")])
}

res <- list(
  lavaan_version = as.character(packageVersion("lavaan")),
  models = list(covariates = covariates, intercepts = intercepts,
                observed_paths = observed_paths),
  fits = list(
    covariates = dump(suppressWarnings(sem(covariates, data = hs, missing = "ml")), measures),
    covariates_groups = dump(suppressWarnings(sem(covariates, data = hs, missing = "ml",
                                                  group = "school")), measures),
    intercepts = dump(sem(intercepts, data = hs, missing = "ml"), measures),
    observed_paths = dump(sem(observed_paths, data = hs, missing = "ml"), measures)))
write_json(res, "tests/reference/lavaan_fiml_means.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
