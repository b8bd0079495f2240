# Reference intervals of standardized estimates for tests/test_model_intervals.py.
#
# How to run (from the repository root; needs R with lavaan and jsonlite):
#     Rscript tests/reference/lavaan_standardized.R
# It writes tests/reference/lavaan_standardized.json. The test suite reads that
# file and never needs R.
#
# standardizedSolution() gives est.std with delta-method standard errors and
# 95 % Wald intervals (type "std.all"). Indirect and total effects are written
# as defined parameters (:=) so that lavaan standardizes them the same way
# (products and sums of standardized paths) and gives their delta-method
# intervals, on the unstandardized scale (parameterEstimates) and on the
# standardized one (standardizedSolution).

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

std_of <- function(fit) {
  ss <- standardizedSolution(fit, type = "std.all", level = 0.95)
  ss <- ss[, c("lhs", "op", "rhs", "est.std", "se", "ci.lower", "ci.upper")]
  pe <- parameterEstimates(fit, level = 0.95)
  pe <- pe[, c("lhs", "op", "rhs", "est", "se", "ci.lower", "ci.upper")]
  list(standardized = ss, unstandardized = pe)
}

# 1. PoliticalDemocracy with the indirect and total effects of ind60 on dem65.
pd_model <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ a*ind60
  dem65 ~ c*ind60 + b*dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
  indirect := a*b
  total := c + a*b
"
fit <- sem(pd_model, data = PoliticalDemocracy)
pd <- std_of(fit)

# 2. HolzingerSwineford1939 with missing values (the rule of lavaan_reference.R,
#    case 5), full-information ML: standardized loadings and factor correlations.
hs_model <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"
hs_miss <- HolzingerSwineford1939
hs_miss$x1[hs_miss$id %% 7 == 0] <- NA
hs_miss$x5[hs_miss$id %% 11 == 0] <- NA
hs_miss$x9[hs_miss$id %% 13 == 0] <- NA
fit <- cfa(hs_model, data = hs_miss, missing = "ml")
hs <- std_of(fit)

res <- list(lavaan_version = as.character(packageVersion("lavaan")),
            political_democracy = c(list(model = pd_model), pd),
            holzinger_swineford_fiml = c(list(model = hs_model), hs))
write_json(res, "tests/reference/lavaan_standardized.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
cat("wrote tests/reference/lavaan_standardized.json\n")
