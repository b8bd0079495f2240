# Reference numbers for satisfaction.sem_weights (tests/test_sem_weights.py): the SEM
# with respondent weights as lavaan's `sampling.weights` (lavaan 0.6: the weights are
# rescaled to sum to N, the sample moments are weighted, the estimates are ML on them,
# the standard errors Huber-White and the test Yuan-Bentler (Mplus), i.e. MLR).
# Cases
#   bank        the shared bank survey (/work/shared/data/bank_satisfaction.csv) with the
#               ECSI model of the shipped ecsi_bank questionnaire and the raking weights of
#               tests/reference/survey_weights.R (survey::rake to gender 0.5/0.5 and a
#               segment A 0.3 / B 0.3 / C 0.4 derived from the respondent number)
#   bfi         psych's bfi (tests/reference/bfi_raw.csv, with missing answers: listwise
#               inside lavaan) with the weight w = (1.5 if gender == 1 else 0.75) *
#               (1 + ((row - 1) %% 5) / 4), row = the 1-based row of the file
#   bfi_groups  the same by gender (two groups)
#   bfi_means   the same model with an intercept written in the model (mean structure)
#   bfi_fixedx  the same model with an observed covariate, C ~ A + O1 (fixed.x)
#   bfi_groups_loadings, bfi_groups_regressions  two groups, loadings (regressions) equal
# Run: Rscript tests/reference/lavaan_sampling_weights.R  (writes lavaan_sampling_weights.json)
suppressPackageStartupMessages({library(lavaan); library(survey); library(jsonlite)})
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))

source(file.path(here, "raked_bank.R"))  # bank with its raked weights w

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

bfi <- read.csv(file.path(here, "bfi_raw.csv"))
row <- seq_len(nrow(bfi))
bfi$w <- ifelse(bfi$gender == 1, 1.5, 0.75) * (1 + ((row - 1) %% 5) / 4)
ac <- '
A =~ A1 + A2 + A3 + A4 + A5
C =~ C1 + C2 + C3 + C4 + C5
C ~ A
'
ac_means <- paste(ac, 'A1 ~ 1', sep = "\n")
ac_x <- paste(ac, 'C ~ O1', sep = "\n")

measures <- c("npar", "ntotal", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled",
              "pvalue.scaled", "chisq.scaling.factor", "baseline.chisq", "baseline.df",
              "baseline.chisq.scaled", "baseline.chisq.scaling.factor", "cfi", "tli",
              "rmsea", "cfi.scaled", "tli.scaled", "cfi.robust", "tli.robust",
              "rmsea.scaled", "rmsea.robust", "rmsea.ci.lower.robust",
              "rmsea.ci.upper.robust", "srmr", "logl", "aic", "bic")

case <- function(model, data, ...) {
  # (in the bank model the two paths into Value are nearly collinear, SE 4.6: lavaan's
  # nlminb stops 1.5e-4 short of the optimum on them and fails with a tighter rel.tol;
  # the test holds those estimates to 1e-4 times their SE and our chi-square below lavaan's)
  f <- sem(model, data = data, sampling.weights = "w", ...)
  pe <- parameterEstimates(f)
  ss <- standardizedSolution(f)
  opt <- lavInspect(f, "options")
  list(estimator = opt$estimator, se = opt$se, test = opt$test[1],
       nobs = lavInspect(f, "nobs"),
       fit = as.list(fitMeasures(f, measures)),
       parameters = data.frame(lhs = pe$lhs, op = pe$op, rhs = pe$rhs,
                               group = if (is.null(pe$group)) 1L else pe$group,
                               est = pe$est, se = pe$se, std.all = ss$est.std,
                               std.se = ss$se))
}

out <- list(
  bank = c(case(ecsi, bank), list(weights = unname(bank$w), respondent = bank$respondent)),
  bfi = case(ac, bfi),
  bfi_groups = case(ac, bfi, group = "gender"),
  bfi_means = case(ac_means, bfi),
  bfi_fixedx = case(ac_x, bfi),
  bfi_groups_loadings = case(ac, bfi, group = "gender", group.equal = "loadings"),
  bfi_groups_regressions = case(ac, bfi, group = "gender", group.equal = "regressions"),
  versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
                  survey = as.character(packageVersion("survey")))
)
write_json(out, file.path(here, "lavaan_sampling_weights.json"), digits = NA,
           auto_unbox = TRUE, pretty = TRUE, dataframe = "rows")
