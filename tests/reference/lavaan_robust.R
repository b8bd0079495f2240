# Reference numbers for tests/test_robust.py: robust ML estimators (MLR, MLM),
# scaled and robust fit indices, and the scaled chi-square difference test.
#
# How to run (from the repository root; needs R with lavaan, psych and jsonlite):
#     Rscript tests/reference/lavaan_robust.R
# It writes tests/reference/lavaan_robust.json and tests/reference/bfi.csv (the
# listwise-complete bfi items used here), so the tests never need R.
#
# lavaan's defaults (0.6.14), which these numbers depend on:
#   MLR: se = "robust.huber.white", test = "yuan.bentler.mplus",
#        information = "observed" (Hessian), h1.information = "structured";
#        the test's h1 part uses the unstructured h1 information.
#   MLM: se = "robust.sem", test = "satorra.bentler", information = "expected",
#        h1.information = "structured"; Gamma from casewise moments, divisor N.
#   Complete data: meanstructure = FALSE; missing = "ml" + MLR: meanstructure TRUE.

suppressPackageStartupMessages({
  library(lavaan)
  library(psych)
  library(jsonlite)
})

out_dir <- "tests/reference"
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
  pe <- parameterEstimates(fit, standardized = TRUE)
  keep <- c("lhs", "op", "rhs", "est", "se", "z", "pvalue", "ci.lower", "ci.upper",
            "std.all")
  pe <- pe[, intersect(keep, names(pe))]
  std <- standardizedSolution(fit)  # delta-method SEs from the robust vcov
  list(model = model,
       estimator = lavInspect(fit, "options")$estimator,
       se = lavInspect(fit, "options")$se,
       test = lavInspect(fit, "options")$test,
       converged = lavInspect(fit, "converged"),
       fit = as.list(fitMeasures(fit, measures)),
       parameters = pe,
       std = std[, c("lhs", "op", "rhs", "est.std", "se", "ci.lower", "ci.upper")])
}

# 1. psych's bfi: five factors of five items, reverse-keyed items as they are
#    (A1, C4, C5, E1, E2, O2, O5), respondents with all 25 items answered.
data(bfi, package = "psych")
items <- paste0(rep(c("A", "C", "E", "N", "O"), each = 5), 1:5)
bfi_items <- bfi[, items]
bfi_items <- bfi_items[complete.cases(bfi_items), ]
write.csv(bfi_items, file.path(out_dir, "bfi.csv"), row.names = FALSE)
bfi_model <- paste(
  "A =~ A1 + A2 + A3 + A4 + A5",
  "C =~ C1 + C2 + C3 + C4 + C5",
  "E =~ E1 + E2 + E3 + E4 + E5",
  "N =~ N1 + N2 + N3 + N4 + N5",
  "O =~ O1 + O2 + O3 + O4 + O5", sep = "\n")
bfi_mlr <- cfa(bfi_model, data = bfi_items, estimator = "MLR")
bfi_mlm <- cfa(bfi_model, data = bfi_items, estimator = "MLM")

# 2. HolzingerSwineford1939: the 3-factor CFA, and the nested model with
#    orthogonal factors for the scaled difference test.
hs_model <- paste(
  "visual =~ x1 + x2 + x3",
  "textual =~ x4 + x5 + x6",
  "speed =~ x7 + x8 + x9", sep = "\n")
hs_orth <- paste(hs_model, "visual ~~ 0*textual", "visual ~~ 0*speed",
                 "textual ~~ 0*speed", sep = "\n")
hs_mlr <- cfa(hs_model, data = HolzingerSwineford1939, estimator = "MLR")
hs_mlm <- cfa(hs_model, data = HolzingerSwineford1939, estimator = "MLM")
hs_orth_mlr <- cfa(hs_orth, data = HolzingerSwineford1939, estimator = "MLR")
hs_orth_mlm <- cfa(hs_orth, data = HolzingerSwineford1939, estimator = "MLM")

diff_test <- function(f1, f0) {
  a <- lavTestLRT(f1, f0, method = "satorra.bentler.2001")
  list(chisq_diff = a[2, "Chisq diff"], df_diff = a[2, "Df diff"],
       pvalue = a[2, "Pr(>Chisq)"],
       # (r0 c0 - r1 c1) / (r0 - r1), Satorra & Bentler (2001)
       scaling_factor = (fitMeasures(f0, "df") * fitMeasures(f0, "chisq.scaling.factor") -
                         fitMeasures(f1, "df") * fitMeasures(f1, "chisq.scaling.factor")) /
         a[2, "Df diff"])
}

# 3. MLR with full-information ML: HolzingerSwineford1939 with values deleted
#    by the same fixed rule as lavaan_reference.R.
hs_miss <- HolzingerSwineford1939
hs_miss$x1[hs_miss$id %% 7 == 0] <- NA
hs_miss$x5[hs_miss$id %% 11 == 0] <- NA
hs_miss$x9[hs_miss$id %% 13 == 0] <- NA
hs_fiml_mlr <- cfa(hs_model, data = hs_miss, missing = "ml", estimator = "MLR")

res <- list(
  lavaan_version = as.character(packageVersion("lavaan")),
  bfi_n = nrow(bfi_items),
  fits = list(
    bfi_mlr = dump_fit(bfi_mlr, bfi_model),
    bfi_mlm = dump_fit(bfi_mlm, bfi_model),
    hs_mlr = dump_fit(hs_mlr, hs_model),
    hs_mlm = dump_fit(hs_mlm, hs_model),
    hs_orth_mlr = dump_fit(hs_orth_mlr, hs_orth),
    hs_orth_mlm = dump_fit(hs_orth_mlm, hs_orth),
    hs_fiml_mlr = dump_fit(hs_fiml_mlr, hs_model)),
  difference = list(
    hs_mlr = diff_test(hs_mlr, hs_orth_mlr),
    hs_mlm = diff_test(hs_mlm, hs_orth_mlm)))
write_json(res, file.path(out_dir, "lavaan_robust.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
