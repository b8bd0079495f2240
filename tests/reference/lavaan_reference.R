# Reference numbers for tests/test_model*.py, produced by lavaan (R).
#
# How to run (from the repository root; needs R with lavaan and jsonlite):
#     Rscript tests/reference/lavaan_reference.R
# It writes tests/reference/lavaan_<case>.json. The test suite reads those
# files and never needs R. lavaan version used: see "lavaan_version" in each file.
#
# Every fit uses lavaan's defaults for sem()/cfa(): estimator ML,
# likelihood "normal" (S divided by N), marker loadings fixed at 1,
# exogenous latent covariances free, expected information for standard errors.

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

out_dir <- "tests/reference"
measures <- c("npar", "ntotal", "chisq", "df", "pvalue", "cfi", "tli", "rmsea",
              "rmsea.ci.lower", "rmsea.ci.upper", "srmr", "aic", "bic", "logl",
              "baseline.chisq", "baseline.df")

effects_of <- function(fit) {
  # total = (I - B)^-1 - I, indirect = total - B, on the lavaan "beta" matrix
  # (regressions among latent variables, including higher-order loadings).
  one <- function(B) {
    I <- diag(nrow(B))
    total <- solve(I - B) - I
    list(direct = B, total = total, indirect = total - B)
  }
  est <- one(lavInspect(fit, "est")$beta)
  std <- one(lavInspect(fit, "std")$beta)
  names <- rownames(est$direct)
  rows <- list()
  for (to in names) for (from in names) {
    if (abs(est$total[to, from]) > 1e-12) {
      rows[[length(rows) + 1]] <- list(
        from = from, to = to,
        direct = est$direct[to, from], indirect = est$indirect[to, from],
        total = est$total[to, from],
        std.direct = std$direct[to, from], std.indirect = std$indirect[to, from],
        std.total = std$total[to, from])
    }
  }
  rows
}

dump_fit <- function(fit, case, model, extra = list()) {
  pe <- parameterEstimates(fit, standardized = TRUE)
  keep <- c("lhs", "op", "rhs", "block", "group", "est", "se", "z", "pvalue",
            "ci.lower", "ci.upper", "std.all")
  pe <- pe[, intersect(keep, names(pe))]
  r2 <- lavInspect(fit, "r2")
  res <- c(list(
    lavaan_version = as.character(packageVersion("lavaan")),
    model = model,
    converged = lavInspect(fit, "converged"),
    fit = as.list(fitMeasures(fit, measures)),
    parameters = pe,
    r2 = if (is.list(r2)) lapply(r2, as.list) else as.list(r2)
  ), extra)
  path <- file.path(out_dir, paste0("lavaan_", case, ".json"))
  write_json(res, path, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
  cat("wrote", path, "\n")
}

# 1. PoliticalDemocracy: the classic tutorial SEM with residual covariances.
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
dump_fit(fit, "political_democracy", pd_model, list(effects = effects_of(fit)))

# 2. HolzingerSwineford1939: the 3-factor CFA.
hs_model <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"
fit <- cfa(hs_model, data = HolzingerSwineford1939)
dump_fit(fit, "holzinger_swineford", hs_model)

# 3. ECSI model of questionnaires/ecsi_bank.yaml on the bank data (all 250
#    respondents, items on their recorded 0-10 scale, none reverse-worded).
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
dump_fit(fit, "ecsi_bank", ecsi_model, list(effects = effects_of(fit)))

# 4. Multi-group: the ECSI bank model by gender, free versus equal structural
#    paths, and the chi-square difference test between them.
fit_free <- sem(ecsi_model, data = bank, group = "gender")
fit_equal <- sem(ecsi_model, data = bank, group = "gender", group.equal = "regressions")
a <- anova(fit_equal, fit_free)
dump_fit(fit_free, "ecsi_bank_gender", ecsi_model, list(
  group_labels = lavInspect(fit_free, "group.label"),
  equal_fit = as.list(fitMeasures(fit_equal, measures)),
  chisq_diff = list(chisq = a[["Chisq diff"]][2], df = a[["Df diff"]][2],
                    pvalue = a[["Pr(>Chisq)"]][2])))

# 5. Full-information ML: HolzingerSwineford1939 with values deleted by a
#    fixed rule (x1 missing when id %% 7 == 0, x5 when id %% 11 == 0,
#    x9 when id %% 13 == 0); the test deletes the same cells.
hs_miss <- HolzingerSwineford1939
hs_miss$x1[hs_miss$id %% 7 == 0] <- NA
hs_miss$x5[hs_miss$id %% 11 == 0] <- NA
hs_miss$x9[hs_miss$id %% 13 == 0] <- NA
fit <- cfa(hs_model, data = hs_miss, missing = "ml")
dump_fit(fit, "holzinger_swineford_fiml", hs_model)

# 6. Exogenous observed predictors (fixed.x = TRUE: their variances and
#    covariance are fixed at the sample values and not counted as parameters).
px_model <- "
  dem60 =~ y1 + y2 + y3 + y4
  dem60 ~ x1 + x2
"
fit <- sem(px_model, data = PoliticalDemocracy)
dump_fit(fit, "observed_predictors", px_model)
