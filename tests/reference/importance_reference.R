# Reference numbers for satisfaction/importance.py (relaimpo is not in Debian, so both
# decompositions are computed here by hand):
#   - LMG / Shapley values: R^2 of every subset of the drivers from lm(), then
#     LMG_j = sum over subsets S without j of |S|! (p-|S|-1)! / p! * (R2(S+j) - R2(S))
#     (Lindeman, Merenda & Gold 1980; Groemping 2006, J. Stat. Software 17(1));
#   - Johnson's (2000) relative weights: eigen() of the drivers' correlation matrix,
#     Lambda = R_xx^(1/2), beta = Lambda^-1 r_xy, eps_j = sum_k lambda_jk^2 beta_k^2;
#   - zero-order correlations r and the standardized coefficients of the full lm().
# Data:
#   - R's built-in `swiss` (Fertility on the other five columns: the example of
#     relaimpo's calc.relimp help page and of Groemping 2006; R^2 = 0.7067), also written
#     to tests/reference/importance_swiss.csv for the Python tests;
#   - tests/reference/importance_bank_scores.csv: construct scores (0-100, equal item
#     weights) of the bank data, written from the repository root with
#       .venv/bin/python -c "import pandas as pd; \
#         from satisfaction.questionnaire import load_questionnaire; \
#         from satisfaction.drivers import construct_scores; \
#         q = load_questionnaire('questionnaires/ecsi_bank.yaml'); \
#         d = pd.read_csv('../shared/data/bank_satisfaction.csv', index_col='respondent'); \
#         s = construct_scores(q, d); s.index.name = 'respondent'; \
#         s.to_csv('tests/reference/importance_bank_scores.csv', float_format='%.10g')"
#     The case "bank_loyalty_missing" blanks Value in rows 5, 17, 42 and Loyalty in
#     row 100 (1-based) to check listwise deletion (246 complete cases).
# Run from the repository root:  Rscript tests/reference/importance_reference.R
# Output: tests/reference/importance_reference.json
library(jsonlite)

r2_of <- function(d, y, xs) {
  if (length(xs) == 0) return(0)
  summary(lm(reformulate(xs, y), data = d))$r.squared
}

lmg_by_subsets <- function(d, y, xs) {
  p <- length(xs)
  cache <- new.env()
  r2 <- function(s) {
    key <- paste0("set:", paste(sort(s), collapse = "+"))
    if (is.null(cache[[key]])) cache[[key]] <- r2_of(d, y, s)
    cache[[key]]
  }
  out <- setNames(numeric(p), xs)
  for (j in xs) {
    others <- setdiff(xs, j)
    total <- 0
    for (k in 0:(p - 1)) {
      w <- factorial(k) * factorial(p - k - 1) / factorial(p)
      sets <- if (k == 0) list(character(0)) else combn(others, k, simplify = FALSE)
      for (s in sets) total <- total + w * (r2(c(s, j)) - r2(s))
    }
    out[j] <- total
  }
  out
}

relative_weights <- function(d, y, xs) {
  R <- cor(d[, c(xs, y)])
  rxx <- R[xs, xs, drop = FALSE]
  rxy <- R[xs, y]
  e <- eigen(rxx, symmetric = TRUE)
  lambda <- e$vectors %*% diag(sqrt(e$values), length(xs)) %*% t(e$vectors)
  beta <- solve(lambda, rxy)
  setNames(as.vector(lambda^2 %*% beta^2), xs)
}

one_case <- function(name, d, y, xs) {
  d <- na.omit(d[, c(xs, y)])
  z <- as.data.frame(scale(d))
  fit <- lm(reformulate(xs, y), data = z)
  lmg <- lmg_by_subsets(d, y, xs)
  rw <- relative_weights(d, y, xs)
  list(name = name, outcome = y, drivers = xs, n = nrow(d),
       r2 = summary(fit)$r.squared,
       r = unname(cor(d[, xs], d[, y])[, 1]),
       beta = unname(coef(fit)[xs]),
       lmg = unname(lmg), relative_weight = unname(rw))
}

data(swiss)
write.csv(swiss, "tests/reference/importance_swiss.csv")  # the same data for the Python tests
bank <- read.csv("tests/reference/importance_bank_scores.csv")
missing <- bank
missing$Value[c(5, 17, 42)] <- NA
missing$Loyalty[100] <- NA

cases <- list(
  one_case("swiss", swiss, "Fertility",
           c("Agriculture", "Examination", "Education", "Catholic", "Infant.Mortality")),
  one_case("bank_satisfaction", bank, "Satisfaction",
           c("Image", "Expectation", "Quality", "Value")),
  one_case("bank_loyalty_missing", missing, "Loyalty",
           c("Image", "Expectation", "Quality", "Value", "Satisfaction"))
)
out <- list(r_version = R.version.string, cases = cases)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/reference/importance_reference.json")
for (case in cases) {
  cat(case$name, " R2 =", format(case$r2, digits = 6), "\n")
  print(round(rbind(lmg = setNames(case$lmg, case$drivers),
                    rw = setNames(case$relative_weight, case$drivers)), 5))
}
