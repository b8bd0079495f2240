# Reference numbers for measurement invariance with respondent weights
# (satisfaction.invariance with weights=, tests/test_invariance_weights.py):
# lavaan 0.6's cfa(..., group =, group.equal =, sampling.weights = "w"), which fits by
# ML on the weighted moments with MLR (Huber-White SEs, Yuan-Bentler (Mplus) test), and
# the steps compared by lavTestLRT(), whose method for these scaled tests is the
# Satorra-Bentler (2001) scaled difference ("satorra.bentler.2001").
# Data: the shared bank survey, the raking weights of tests/reference/survey_weights.R
# (gender 0.5/0.5, segment A 0.3 / B 0.3 / C 0.4 by respondent number), by gender.
# Cases
#   complete    the ECSI measurement model (six factors, 27 items), complete data
#   fiml        Quality, Satisfaction and Loyalty (13 items; the whole model's FIML steps
#               take minutes) with answers removed as tests/reference/lavaan_fiml_weights.R
#               (sat2 of respondents whose number is a multiple of 7, qual3 of multiples
#               of 11, loy1 of multiples of 13; the weights are raked on all 250),
#               missing = "ml"
#   construct   Satisfaction alone (one factor, four items), complete data, configural,
#               metric and scalar (the construct invariance of the report's compare stage)
# lavaan warns that the covariance matrix of the latent variables is not positive
# definite in group 1 (male) of the whole model: two factors correlate beyond 1 there;
# our fits flag those steps as inadmissible too. The numbers are compared all the same.
# Run: Rscript tests/reference/lavaan_invariance_weights.R  (writes lavaan_invariance_weights.json)
suppressPackageStartupMessages({library(lavaan); library(survey); library(jsonlite)})
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))

source(file.path(here, "raked_bank.R"))  # bank with its raked weights w
holes <- bank
holes$sat2[num %% 7 == 0] <- NA
holes$qual3[num %% 11 == 0] <- NA
holes$loy1[num %% 13 == 0] <- NA

ecsi <- '
Image =~ imag1 + imag2 + imag3 + imag4 + imag5
Expectation =~ expe1 + expe2 + expe3 + expe4 + expe5
Quality =~ qual1 + qual2 + qual3 + qual4 + qual5
Value =~ val1 + val2 + val3 + val4
Satisfaction =~ sat1 + sat2 + sat3 + sat4
Loyalty =~ loy1 + loy2 + loy3 + loy4
'
satisfaction <- 'Satisfaction =~ sat1 + sat2 + sat3 + sat4'
qsl <- '
Quality =~ qual1 + qual2 + qual3 + qual4 + qual5
Satisfaction =~ sat1 + sat2 + sat3 + sat4
Loyalty =~ loy1 + loy2 + loy3 + loy4
'

steps <- list(configural = "", metric = "loadings",
              scalar = c("loadings", "intercepts"),
              strict = c("loadings", "intercepts", "residuals"))
measures <- c("npar", "chisq", "df", "pvalue", "chisq.scaled", "chisq.scaling.factor",
              "pvalue.scaled", "cfi", "tli", "rmsea", "srmr", "cfi.robust", "tli.robust",
              "rmsea.robust")

case <- function(model, data, names, ...) {
  fits <- lapply(steps[names], function(eq)
    cfa(model, data = data, group = "gender", group.equal = eq, sampling.weights = "w",
        ...))
  opt <- lavInspect(fits[[1]], "options")
  # lavTestLRT of all steps at once: each row against the row before (ordered by df)
  lrt <- do.call(lavTestLRT, unname(fits))
  scalar <- parameterEstimates(fits[["scalar"]])
  latent <- scalar[scalar$op == "~1" & scalar$lhs %in% lavNames(fits[[1]], "lv"), ]
  list(estimator = opt$estimator, se = opt$se, test = opt$test[1],
       group_labels = lavInspect(fits[[1]], "group.label"),
       lrt_method = attr(lrt, "heading")[1],
       steps = lapply(names(fits), function(s)
         c(list(model = s, converged = lavInspect(fits[[s]], "converged")),
           as.list(fitMeasures(fits[[s]], measures)))),
       lrt = data.frame(model = names(fits)[order(sapply(fits, fitMeasures, "df"))], df = lrt[, "Df"], chisq = lrt[, "Chisq"],
                        chisq_diff = lrt[, "Chisq diff"], df_diff = lrt[, "Df diff"],
                        pvalue = lrt[, "Pr(>Chisq)"]),
       latent_means = data.frame(construct = latent$lhs, group = latent$group,
                                 est = latent$est, se = latent$se))
}

all_steps <- names(steps)
out <- list(
  complete = case(ecsi, bank, all_steps),
  fiml = case(qsl, holes, all_steps, missing = "ml"),
  construct = case(satisfaction, bank, all_steps[1:3]),
  weights = unname(bank$w), respondent = bank$respondent,
  versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
                  survey = as.character(packageVersion("survey")))
)
write_json(out, file.path(here, "lavaan_invariance_weights.json"), digits = NA,
           auto_unbox = TRUE, pretty = TRUE, dataframe = "rows")
