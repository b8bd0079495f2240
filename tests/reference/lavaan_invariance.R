# Reference numbers for tests/test_invariance.py: measurement invariance steps
# (configural, metric, scalar, strict) as lavaan fits them with group.equal, the
# latent means of the scalar model, a partially invariant model (group.partial),
# and lavaan's score tests (lavTestScore) for releasing the scalar model's
# equality constraints.
#
# How to run (from the repository root; needs R with lavaan and jsonlite):
#     Rscript tests/reference/lavaan_invariance.R
# It writes tests/reference/lavaan_invariance.json; the tests never need R.

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

measures <- c("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr")
steps <- list(configural = "", metric = "loadings",
              scalar = c("loadings", "intercepts"),
              strict = c("loadings", "intercepts", "residuals"))
run <- function(model, data, group) {
  fits <- lapply(steps, function(eq) cfa(model, data = data, group = group, group.equal = eq))
  out <- lapply(fits, function(f) as.list(fitMeasures(f, measures)))
  pe <- parameterEstimates(fits$scalar)
  out$scalar_means <- pe[pe$op == "~1" & pe$lhs %in% lavNames(fits$scalar, "lv"),
                         c("lhs", "group", "est", "se")]
  score <- lavTestScore(fits$scalar)$uni
  pt <- parTable(fits$scalar)
  name_of <- function(plabel) {
    r <- pt[pt$plabel == plabel, ][1, ]
    paste(r$lhs, r$op, r$rhs)
  }
  score$lhs_name <- vapply(score$lhs, name_of, "")
  score <- score[order(-score$X2), ]
  out$score_top <- list(parameter = score$lhs_name[1], X2 = score$X2[1])
  list(model = model, group = group, fits = out,
       group_labels = lavInspect(fits$configural, "group.label"))
}

hs_model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
hs <- run(hs_model, HolzingerSwineford1939, "school")
partial <- cfa(hs_model, data = HolzingerSwineford1939, group = "school",
               group.equal = c("loadings", "intercepts"), group.partial = c("x3 ~ 1", "x7 ~ 1"))
hs$partial <- c(list(free = c("x3 ~1", "x7 ~1")),
                as.list(fitMeasures(partial, measures)))

bank <- read.csv("/work/shared/data/bank_satisfaction.csv")
bank_model <- "Image =~ imag1 + imag2 + imag3 + imag4 + imag5
Satisfaction =~ sat1 + sat2 + sat3 + sat4
Loyalty =~ loy1 + loy2 + loy3 + loy4"
bk <- run(bank_model, bank, "gender")

# Each construct's one-factor model across gender (what the report's group
# comparison relies on): configural, metric and scalar CFI.
items <- list(Image = paste0("imag", 1:5), Expectation = paste0("expe", 1:5),
              Quality = paste0("qual", 1:5), Value = paste0("val", 1:4),
              Satisfaction = paste0("sat", 1:4), Loyalty = paste0("loy", 1:4))
constructs <- lapply(names(items), function(cid) {
  m <- paste(cid, "=~", paste(items[[cid]], collapse = " + "))
  cfi <- vapply(steps[1:3], function(eq) fitMeasures(
    cfa(m, data = bank, group = "gender", group.equal = eq), "cfi"), 0)
  list(construct = cid, cfi = as.list(cfi))
})

write_json(list(lavaan_version = as.character(packageVersion("lavaan")),
                holzinger = hs, bank = bk, bank_constructs = constructs),
           "tests/reference/lavaan_invariance.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
cat("wrote tests/reference/lavaan_invariance.json\n")
