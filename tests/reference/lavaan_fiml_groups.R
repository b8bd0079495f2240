# Reference numbers for tests/test_model_fiml_groups.py: multi-group
# full-information ML (lavaan's missing = "ml" with group =), configural and
# scalar (group.equal = c("loadings", "intercepts")), scalar with the
# intercepts of x3 and x7 free (group.partial), and the same configural
# model with estimator = "MLR" (robust CFI/TLI/RMSEA from Savalei's corrected
# FIML statistic, lavaan's lav_fit_fiml_corrected, version "V3").
#
# How to run (from the repository root; needs R with lavaan and jsonlite):
#     Rscript tests/reference/lavaan_fiml_groups.R
# It writes tests/reference/lavaan_fiml_groups.json; the tests never need R.
#
# Data: HolzingerSwineford1939 with values deleted by the rule of
# lavaan_reference.R case 5 (x1 missing when id %% 7 == 0, x5 when
# id %% 11 == 0, x9 when id %% 13 == 0), grouped by school.

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

measures <- c("npar", "ntotal", "chisq", "df", "pvalue", "cfi", "tli", "rmsea",
              "rmsea.ci.lower", "rmsea.ci.upper", "srmr", "aic", "bic", "logl",
              "baseline.chisq", "baseline.df")
robust_measures <- c(measures, "chisq.scaled", "chisq.scaling.factor",
                     "baseline.chisq.scaled", "baseline.chisq.scaling.factor",
                     "cfi.robust", "tli.robust", "rmsea.robust",
                     "rmsea.ci.lower.robust", "rmsea.ci.upper.robust")

hs_miss <- HolzingerSwineford1939
hs_miss$x1[hs_miss$id %% 7 == 0] <- NA
hs_miss$x5[hs_miss$id %% 11 == 0] <- NA
hs_miss$x9[hs_miss$id %% 13 == 0] <- NA
hs_model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"

dump <- function(fit, names) {
  pe <- parameterEstimates(fit)
  pe$group_label <- lavInspect(fit, "group.label")[pe$group]
  list(converged = lavInspect(fit, "converged"),
       fit = as.list(fitMeasures(fit, names)),
       parameters = pe[, c("lhs", "op", "rhs", "group", "group_label", "est", "se")])
}

configural <- cfa(hs_model, data = hs_miss, group = "school", missing = "ml")
scalar <- cfa(hs_model, data = hs_miss, group = "school", missing = "ml",
              group.equal = c("loadings", "intercepts"))
partial <- cfa(hs_model, data = hs_miss, group = "school", missing = "ml",
               group.equal = c("loadings", "intercepts"), group.partial = c("x3 ~ 1", "x7 ~ 1"))
configural_mlr <- cfa(hs_model, data = hs_miss, group = "school", missing = "ml",
                      estimator = "MLR")
res <- list(
  lavaan_version = as.character(packageVersion("lavaan")),
  model = hs_model, group = "school",
  group_labels = lavInspect(configural, "group.label"),
  fits = list(configural = dump(configural, measures),
              scalar = dump(scalar, measures),
              partial = c(dump(partial, measures), list(free = c("x3 ~1", "x7 ~1"))),
              configural_mlr = dump(configural_mlr, robust_measures)))
write_json(res, "tests/reference/lavaan_fiml_groups.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
