# Reference numbers for weighted PLS (satisfaction.pls, tests/test_pls_weights.py):
# the weighted means, variances and correlations the WPLS standardization uses.
# Data: the shared bank survey (/work/shared/data/bank_satisfaction.csv, 250 customers),
# weights: the raking weights of survey_weights.json (rake.weights, R's survey::rake).
# svymean and svyvar of a design svydesign(ids = ~1, weights = ~w); the correlation
# matrix from cov.wt(cor = TRUE) (the divisor does not matter for correlations).
# Run: Rscript tests/reference/pls_weights_survey.R  (writes pls_weights_survey.json)
suppressPackageStartupMessages({library(survey); library(jsonlite)})
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
d <- read.csv("/work/shared/data/bank_satisfaction.csv", stringsAsFactors = FALSE)
ref <- fromJSON(file.path(here, "survey_weights.json"))
stopifnot(identical(ref$rake$respondent, d$respondent))
d$w <- ref$rake$weights
items <- c("imag1", "imag2", "imag3", "sat1", "sat2", "sat3", "loy1", "loy2", "loy3")
des <- svydesign(ids = ~1, weights = ~w, data = d)
f <- as.formula(paste0("~", paste(items, collapse = " + ")))
m <- svymean(f, des)
v <- svyvar(f, des)
cw <- cov.wt(as.matrix(d[, items]), wt = d$w / sum(d$w), cor = TRUE)
out <- list(items = items, mean = unname(coef(m)), var = unname(diag(as.matrix(v))),
            cor = unname(cw$cor),
            versions = list(R = R.version.string,
                            survey = as.character(packageVersion("survey"))))
write_json(out, file.path(here, "pls_weights_survey.json"), digits = 15, auto_unbox = TRUE,
           pretty = TRUE)
