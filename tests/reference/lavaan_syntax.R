# Reference numbers for tests/test_model_syntax.py: lavaan's reading of model
# syntax (labels, fixed markers, NA*, c() modifiers, labels shared across groups,
# := defined parameters, == constraints, repeated terms) and a reverse-worded
# marker on raw items.
#
# How to run (from the repository root; needs R with lavaan, psych and jsonlite):
#     Rscript tests/reference/lavaan_syntax.R
# It writes tests/reference/lavaan_syntax.json and tests/reference/bfi_raw.csv
# (psych's bfi: 2,800 respondents, the 25 items as recorded, none reversed, and
# gender). The test suite reads those files and never needs R.

suppressPackageStartupMessages({
  library(lavaan)
  library(psych)
  library(jsonlite)
})

measures <- c("npar", "ntotal", "chisq", "df", "cfi", "rmsea", "srmr", "aic", "bic", "logl")
one <- function(fit, model, data, extra = list()) {
  pe <- parameterEstimates(fit, standardized = TRUE)
  keep <- c("lhs", "op", "rhs", "label", "group", "est", "se", "ci.lower", "ci.upper",
            "std.all")
  c(list(model = model, data = data, converged = lavInspect(fit, "converged"),
         fit = as.list(fitMeasures(fit, measures)),
         parameters = pe[, intersect(keep, names(pe))]), extra)
}

hs <- HolzingerSwineford1939
bank <- read.csv("/work/shared/data/bank_satisfaction.csv")
out <- list(lavaan_version = as.character(packageVersion("lavaan")))

# 1. A label on the marker keeps it fixed at 1.
m <- "visual =~ a*x1 + x2 + x3\ntextual =~ x4 + x5 + x6"
out$label_on_marker <- one(cfa(m, data = hs), m, "holzinger")

# 2. NA* and a label on the same term are one free loading; the factor variance is fixed.
m <- "visual =~ NA*x1 + a*x1 + x2 + x3\nvisual ~~ 1*visual"
out$na_and_label <- one(cfa(m, data = hs), m, "holzinger")

# 3. A repeated term is one parameter.
m <- "visual =~ x1 + x2 + x3 + x1"
out$repeated_term <- one(cfa(m, data = hs), m, "holzinger")

# 3b. Intercepts written in the model: lavaan's mean structure (a fixed intercept,
#     a free latent mean, a labelled intercept; the others free, other means 0).
m <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nx1 ~ 0*1\nvisual ~ 1\nx4 ~ i4*1"
out$intercepts <- one(cfa(m, data = hs), m, "holzinger")

# 3c. Bounds on labelled parameters: one that binds (held at the bound, no SE)
#     and one that does not.
m <- "visual =~ x1 + a*x2 + x3\ntextual =~ x4 + x5 + x6\na > 0.7"
out$bound_loading <- one(cfa(m, data = hs), m, "holzinger")
m <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nx2 ~~ v*x2\nv < 1"
out$bound_variance <- one(cfa(m, data = hs), m, "holzinger")
m <- "visual =~ x1 + a*x2 + x3\ntextual =~ x4 + x5 + x6\n0 < a"
out$bound_inactive <- one(cfa(m, data = hs), m, "holzinger")

# 4. Defined parameters and an equality constraint.
m <- "visual =~ x1 + b2*x2 + b3*x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9
b2 == b3\nratio := b2 / 2\nsq := b2^2"
out$defined_and_equal <- one(cfa(m, data = hs), m, "holzinger")

# 5. Multi-group: a plain label is equal across groups; c() gives one per group.
ecsi <- "
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
"
m <- paste0(ecsi, "  Loyalty ~ Image + s*Satisfaction\n")
out$group_shared_label <- one(sem(m, data = bank, group = "gender"), m, "bank",
                              list(group_labels = lavInspect(sem(m, data = bank, group = "gender"),
                                                             "group.label")))
m <- paste0(ecsi, "  Loyalty ~ c(i1, i2)*Image + c(0.8, NA)*Satisfaction\n")
out$group_c_modifier <- one(sem(m, data = bank, group = "gender"), m, "bank")

m <- "Image =~ imag1 + imag2 + imag3 + imag4 + imag5
Satisfaction =~ sat1 + sat2 + sat3 + sat4
Loyalty =~ loy1 + loy2 + loy3 + loy4
Satisfaction ~ c(a1, a2)*Image
Loyalty ~ b*Satisfaction
ind1 := a1*b
diff := a1 - a2"
out$group_defined <- one(sem(m, data = bank, group = "gender"), m, "bank")

# 5b. Multi-group with exogenous observed covariates (fixed.x): their means and
#     (co)variances are neither parameters nor moments.
m <- "Satisfaction =~ sat1 + sat2 + sat3 + sat4
Satisfaction ~ imag1 + val1"
out$group_covariates <- one(sem(m, data = bank, group = "gender"), m, "bank")

# 6. Raw bfi items: the Agreeableness marker A1 is reverse-worded.
data(bfi, package = "psych")
items <- c(paste0("A", 1:5), paste0("C", 1:5), paste0("E", 1:5), paste0("N", 1:5),
           paste0("O", 1:5))
raw <- bfi[, c(items, "gender")]
write.csv(raw, "tests/reference/bfi_raw.csv", row.names = FALSE, na = "")
m <- "A =~ A1 + A2 + A3 + A4 + A5
C =~ C1 + C2 + C3 + C4 + C5
E =~ E1 + E2 + E3 + E4 + E5
N =~ N1 + N2 + N3 + N4 + N5
O =~ O1 + O2 + O3 + O4 + O5"
out$bfi_raw_ml <- one(cfa(m, data = raw), m, "bfi")
out$bfi_raw_fiml <- one(cfa(m, data = raw, missing = "ml"), m, "bfi")

write_json(out, "tests/reference/lavaan_syntax.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
cat("wrote tests/reference/lavaan_syntax.json\n")
