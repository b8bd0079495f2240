# Reference numbers for the weighted importance-performance analysis (weighted PLS's IPA:
# satisfaction.importance.driver_importance(weights=) and drivers.ipa(weights=);
# tests/test_ipa_weights.py).
# Data: tests/reference/importance_bank_scores.csv (construct scores of the bank survey,
# 250 customers, see importance_reference.R) with the raking weights of
# survey_weights.json (rake$weights, R's survey::rake); Value is blanked in rows 5, 17
# and 42 (1-based) to check that incomplete respondents are left out.
#   - Shapley values (LMG) of R^2: the R^2 of every subset of the drivers from
#     lm(weights = w) (the weighted regression's R^2, computed by lm itself), then
#     LMG_j = sum over subsets S without j of |S|! (p-|S|-1)! / p! (R2(S+j) - R2(S));
#   - Johnson's relative weights and the standardized coefficients from the weighted
#     correlation matrix of cov.wt(cor = TRUE);
#   - the paired performance differences d_ij = s_ij - mean_k(s_ik) over the respondents
#     with every driver's score: svymean(~d_j, svydesign(ids = ~1, weights = ~w)), its
#     SE and confint() (normal interval).
# Run from the repository root:  Rscript tests/reference/ipa_weights_survey.R
# Output: tests/reference/ipa_weights_survey.json
suppressPackageStartupMessages({library(survey); library(jsonlite)})
bank <- read.csv("tests/reference/importance_bank_scores.csv", stringsAsFactors = FALSE)
ref <- fromJSON("tests/reference/survey_weights.json")
stopifnot(identical(ref$rake$respondent, bank$respondent))
bank$w <- ref$rake$weights
bank$Value[c(5, 17, 42)] <- NA
y <- "Satisfaction"
xs <- c("Image", "Expectation", "Quality", "Value")
d <- na.omit(bank[, c("respondent", xs, y, "w")])

r2_of <- function(s) {
  if (length(s) == 0) return(0)
  summary(lm(reformulate(s, y), data = d, weights = w))$r.squared
}
p <- length(xs)
lmg <- setNames(numeric(p), xs)
for (j in xs) {
  others <- setdiff(xs, j)
  for (k in 0:(p - 1)) {
    wk <- factorial(k) * factorial(p - k - 1) / factorial(p)
    sets <- if (k == 0) list(character(0)) else combn(others, k, simplify = FALSE)
    for (s in sets) lmg[j] <- lmg[j] + wk * (r2_of(c(s, j)) - r2_of(s))
  }
}
R <- cov.wt(as.matrix(d[, c(xs, y)]), wt = d$w / sum(d$w), cor = TRUE)$cor
rxx <- R[xs, xs]
rxy <- R[xs, y]
e <- eigen(rxx, symmetric = TRUE)
lambda <- e$vectors %*% diag(sqrt(e$values)) %*% t(e$vectors)
rw <- as.vector(lambda^2 %*% solve(lambda, rxy)^2)
beta <- solve(rxx, rxy)

diffs <- as.matrix(d[, xs]) - rowMeans(as.matrix(d[, xs]))
colnames(diffs) <- paste0("d_", xs)
dd <- cbind(d, diffs)
des <- svydesign(ids = ~1, weights = ~w, data = dd)
m <- svymean(as.formula(paste0("~", paste(colnames(diffs), collapse = " + "))), des)
ci <- confint(m)

out <- list(outcome = y, drivers = xs, n = nrow(d), blanked_value_rows = c(5, 17, 42),
            r2 = r2_of(xs), lmg = unname(lmg), shapley_share = unname(lmg / r2_of(xs)),
            relative_weight = rw, relative_weight_share = rw / sum(rw),
            r = unname(rxy), beta = unname(beta),
            diff_mean = unname(coef(m)), diff_se = unname(SE(m)),
            diff_lower = unname(ci[, 1]), diff_upper = unname(ci[, 2]),
            versions = list(R = R.version.string,
                            survey = as.character(packageVersion("survey"))))
write_json(out, "tests/reference/ipa_weights_survey.json", digits = 15, auto_unbox = TRUE,
           pretty = TRUE)
