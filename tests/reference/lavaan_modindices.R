# Reference numbers for tests/test_modindices.py and tests/test_scores.py,
# produced by lavaan (R): modification indices (modindices()), factor scores
# (lavPredict()) and the std.lv standardized solution.
#
# How to run (from the repository root; needs R with lavaan and jsonlite):
#     Rscript tests/reference/lavaan_modindices.R
# It writes tests/reference/lavaan_modindices.json. The test suite reads that
# file and never needs R.
#
# Defaults throughout: estimator ML, expected information, listwise deletion.
# modindices() is called with its defaults (standardized = TRUE, cov.std = TRUE,
# free.remove = TRUE, na.remove = TRUE) and sorted by mi.

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

mi_cols <- c("lhs", "op", "rhs", "group", "mi", "epc", "sepc.lv", "sepc.all")

mi_of <- function(fit) {
  mi <- modindices(fit, sort. = TRUE)
  mi <- as.data.frame(mi[, intersect(mi_cols, names(mi))])
  rownames(mi) <- NULL
  mi
}

# lavaan's own estimates: with them in place of ours the indices agree to
# rounding error, which separates the formula from the optimisers' tolerances.
est_of <- function(fit) {
  pe <- parameterEstimates(fit)
  pe <- pe[pe$op %in% c("=~", "~", "~~", "~1"), intersect(c("lhs", "op", "rhs", "group", "est"),
                                                     names(pe))]
  rownames(pe) <- NULL
  pe
}

scores_of <- function(fit, method) {
  fs <- lavPredict(fit, method = method)
  if (is.list(fs) && !is.matrix(fs)) fs <- fs[[1]]
  fs <- as.data.frame(fs)
  list(n = nrow(fs),
       case_idx = lavInspect(fit, "case.idx"),
       first10 = fs[1:10, , drop = FALSE],
       mean = as.list(colMeans(fs)),
       sd = as.list(sapply(fs, sd)))
}

# 1. HolzingerSwineford1939: the 3-factor CFA.
hs_model <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"
fit <- cfa(hs_model, data = HolzingerSwineford1939)
hs_mi <- mi_of(fit)
holzinger <- list(
  model = hs_model,
  modindices = hs_mi,
  top20 = hs_mi[1:20, ],
  estimates = est_of(fit),
  scores = list(regression = scores_of(fit, "regression"),
                bartlett = scores_of(fit, "Bartlett")))

# 2. The same CFA with values deleted by a fixed rule (as lavaan_reference.R,
#    case 5), fitted listwise: lavPredict scores the complete cases only.
hs_miss <- HolzingerSwineford1939
hs_miss$x1[hs_miss$id %% 7 == 0] <- NA
hs_miss$x5[hs_miss$id %% 11 == 0] <- NA
hs_miss$x9[hs_miss$id %% 13 == 0] <- NA
fit <- cfa(hs_model, data = hs_miss)
holzinger_listwise <- list(
  model = hs_model,
  scores = list(regression = scores_of(fit, "regression"),
                bartlett = scores_of(fit, "Bartlett")))

# 3. PoliticalDemocracy: the classic SEM with residual covariances.
pd_model <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
"
fit <- sem(pd_model, data = PoliticalDemocracy)
pd_mi <- mi_of(fit)
ss <- standardizedSolution(fit, type = "std.lv")
pe <- parameterEstimates(fit, standardized = TRUE)
political_democracy <- list(
  model = pd_model,
  modindices = pd_mi,
  top20 = pd_mi[1:20, ],
  estimates = est_of(fit),
  std_lv = pe[, c("lhs", "op", "rhs", "est", "std.lv", "std.all")],
  std_lv_solution = ss[, c("lhs", "op", "rhs", "est.std")],
  scores = list(regression = scores_of(fit, "regression"),
                bartlett = scores_of(fit, "Bartlett")))

# 4. Exogenous observed predictors (fixed.x = TRUE).
px_model <- "
  dem60 =~ y1 + y2 + y3 + y4
  dem60 ~ x1 + x2
"
fit <- sem(px_model, data = PoliticalDemocracy)
observed_predictors <- list(model = px_model, modindices = mi_of(fit),
  estimates = est_of(fit),
  std_lv = parameterEstimates(fit, standardized = TRUE)[
    , c("lhs", "op", "rhs", "est", "std.lv", "std.all")])

# 5. Multi-group: the CFA by school (configural model, meanstructure).
fit <- cfa(hs_model, data = HolzingerSwineford1939, group = "school")
holzinger_school <- list(model = hs_model, group = "school",
                         group_labels = lavInspect(fit, "group.label"),
                         modindices = mi_of(fit), estimates = est_of(fit),
                         scores = lapply(lavPredict(fit, method = "regression"),
                                         function(fs) list(n = nrow(fs),
                                                           first10 = as.data.frame(fs[1:10, ]))))

# 5b. Scalar invariance (loadings and intercepts equal across schools; latent
#     means free in the second group): a mean structure with equality constraints.
fit <- cfa(hs_model, data = HolzingerSwineford1939, group = "school",
           group.equal = c("loadings", "intercepts"))
fs_group <- function(fit, method) {
  lapply(lavPredict(fit, method = method),
         function(fs) list(n = nrow(fs), first10 = as.data.frame(fs[1:10, ]),
                           mean = as.list(colMeans(fs))))
}
holzinger_scalar <- list(model = hs_model, group = "school",
                         group_equal = c("loadings", "intercepts"),
                         group_labels = lavInspect(fit, "group.label"),
                         modindices = mi_of(fit), estimates = est_of(fit),
                         scores = list(regression = fs_group(fit, "regression"),
                                       bartlett = fs_group(fit, "Bartlett")))

# 6. The ECSI bank model (../shared/data): a structural model that is not
#    saturated, so lavaan also lists regressions among the latent variables.
ecsi_model <- "
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
"
bank <- read.csv("/work/shared/data/bank_satisfaction.csv")
fit <- sem(ecsi_model, data = bank)
ecsi_bank <- list(model = ecsi_model, modindices = mi_of(fit), estimates = est_of(fit))

res <- list(lavaan_version = as.character(packageVersion("lavaan")),
            holzinger = holzinger,
            holzinger_listwise = holzinger_listwise,
            political_democracy = political_democracy,
            observed_predictors = observed_predictors,
            holzinger_school = holzinger_school,
            holzinger_scalar = holzinger_scalar,
            ecsi_bank = ecsi_bank)
path <- file.path("tests/reference", "lavaan_modindices.json")
write_json(res, path, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
cat("wrote", path, "\n")
