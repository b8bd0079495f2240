# Reference numbers for weighted FIML in satisfaction.sem_weights (tests/test_sem_weights.py):
# lavaan 0.6's `sampling.weights` with `missing = "ml"`. lavaan then estimates by ML on
# the casewise log-likelihood weighted by the weights (rescaled to sum to N), its h1
# (saturated) moments by a weighted EM, standard errors Huber-White
# (se = "robust.huber.white") and the test Yuan-Bentler (Mplus), i.e. MLR.
# Cases
#   bfi         psych's bfi (tests/reference/bfi_raw.csv) with its missing answers and the
#               weight w = (1.5 if gender == 1 else 0.75) * (1 + ((row - 1) %% 5) / 4),
#               row = the 1-based row of the file (as lavaan_sampling_weights.R)
#   bfi_groups  the same by gender (two groups); bfi_groups_regressions with equal paths
#   bank        the shared bank survey with the ECSI model and the raking weights of
#               tests/reference/survey_weights.R (gender 0.5/0.5, segment A 0.3 / B 0.3 /
#               C 0.4 by respondent number), with answers removed: sat2 of respondents
#               whose number is a multiple of 7, qual3 of multiples of 11, loy1 of
#               multiples of 13 (the weights are raked on all 250)
# Run: Rscript tests/reference/lavaan_fiml_weights.R  (writes lavaan_fiml_weights.json)
suppressPackageStartupMessages({library(lavaan); library(survey); library(jsonlite)})
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))

bfi <- read.csv(file.path(here, "bfi_raw.csv"))
row <- seq_len(nrow(bfi))
bfi$w <- ifelse(bfi$gender == 1, 1.5, 0.75) * (1 + ((row - 1) %% 5) / 4)
ac <- '
A =~ A1 + A2 + A3 + A4 + A5
C =~ C1 + C2 + C3 + C4 + C5
C ~ A
'

source(file.path(here, "raked_bank.R"))  # bank with its raked weights w
bank$sat2[num %% 7 == 0] <- NA
bank$qual3[num %% 11 == 0] <- NA
bank$loy1[num %% 13 == 0] <- NA
ecsi <- '
Image =~ imag1 + imag2 + imag3 + imag4 + imag5
Expectation =~ expe1 + expe2 + expe3 + expe4 + expe5
Quality =~ qual1 + qual2 + qual3 + qual4 + qual5
Value =~ val1 + val2 + val3 + val4
Satisfaction =~ sat1 + sat2 + sat3 + sat4
Loyalty =~ loy1 + loy2 + loy3 + loy4
Expectation ~ Image
Quality ~ Expectation
Value ~ Expectation + Quality
Satisfaction ~ Image + Expectation + Quality + Value
Loyalty ~ Image + Satisfaction
'

measures <- c("npar", "ntotal", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled",
              "pvalue.scaled", "chisq.scaling.factor", "baseline.chisq", "baseline.df",
              "baseline.chisq.scaled", "baseline.chisq.scaling.factor", "cfi", "tli",
              "rmsea", "cfi.scaled", "tli.scaled", "cfi.robust", "tli.robust",
              "rmsea.scaled", "rmsea.robust", "rmsea.ci.lower.robust",
              "rmsea.ci.upper.robust", "srmr", "logl", "unrestricted.logl", "aic", "bic")

case <- function(model, data, ...) {
  f <- sem(model, data = data, sampling.weights = "w", missing = "ml", ...)
  pe <- parameterEstimates(f)
  ss <- standardizedSolution(f)
  opt <- lavInspect(f, "options")
  list(estimator = opt$estimator, se = opt$se, test = opt$test[1],
       information = opt$information[1], nobs = lavInspect(f, "nobs"),
       converged = lavInspect(f, "converged"),
       fit = as.list(fitMeasures(f, measures)),
       parameters = data.frame(lhs = pe$lhs, op = pe$op, rhs = pe$rhs,
                               group = if (is.null(pe$group)) 1L else pe$group,
                               est = pe$est, se = pe$se, std.all = ss$est.std,
                               std.se = ss$se))
}

out <- list(
  bfi = case(ac, bfi),
  bfi_groups = case(ac, bfi, group = "gender"),
  bfi_groups_regressions = case(ac, bfi, group = "gender", group.equal = "regressions"),
  bank = c(case(ecsi, bank), list(weights = unname(bank$w), respondent = bank$respondent)),
  versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
                  survey = as.character(packageVersion("survey")))
)
write_json(out, file.path(here, "lavaan_fiml_weights.json"), digits = NA,
           auto_unbox = TRUE, pretty = TRUE, dataframe = "rows")
