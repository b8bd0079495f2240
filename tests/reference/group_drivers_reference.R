# Reference numbers for satisfaction/group_drivers.py: the key-driver importance of the
# bank data's Satisfaction within each gender (relaimpo is not in Debian, so both
# decompositions are computed here by hand, as in importance_reference.R):
#   - LMG / Shapley values: R^2 of every subset of the drivers from lm(), then
#     LMG_j = sum over subsets S without j of |S|! (p-|S|-1)! / p! * (R2(S+j) - R2(S))
#     (Lindeman, Merenda & Gold 1980; Groemping 2006, J. Stat. Software 17(1));
#     the share is LMG_j / R^2;
#   - Johnson's (2000) relative weights: eigen() of the drivers' correlation matrix.
# Data: tests/reference/importance_bank_scores.csv (construct scores of the bank data,
# see importance_reference.R) joined by respondent to the gender column of
# /work/shared/data/bank_satisfaction.csv (copied to tests/data/bank_gender.csv).
# Run from the repository root:  Rscript tests/reference/group_drivers_reference.R
# Output: tests/reference/group_drivers_reference.json
library(jsonlite)

r2_of <- function(d, y, xs) {
  if (length(xs) == 0) return(0)
  summary(lm(reformulate(xs, y), data = d))$r.squared
}

lmg_by_subsets <- function(d, y, xs) {
  p <- length(xs)
  out <- setNames(numeric(p), xs)
  for (j in xs) {
    others <- setdiff(xs, j)
    total <- 0
    for (k in 0:(p - 1)) {
      w <- factorial(k) * factorial(p - k - 1) / factorial(p)
      sets <- if (k == 0) list(character(0)) else combn(others, k, simplify = FALSE)
      for (s in sets) total <- total + w * (r2_of(d, y, c(s, j)) - r2_of(d, y, s))
    }
    out[j] <- total
  }
  out
}

relative_weights <- function(d, y, xs) {
  R <- cor(d[, c(xs, y)])
  e <- eigen(R[xs, xs], symmetric = TRUE)
  lambda <- e$vectors %*% diag(sqrt(e$values), length(xs)) %*% t(e$vectors)
  beta <- solve(lambda, R[xs, y])
  setNames(as.vector(lambda^2 %*% beta^2), xs)
}

scores <- read.csv("tests/reference/importance_bank_scores.csv")
gender <- read.csv("tests/data/bank_gender.csv")
bank <- merge(scores, gender, by = "respondent")
xs <- c("Image", "Expectation", "Quality", "Value")
groups <- list()
for (g in sort(unique(bank$gender))) {
  d <- bank[bank$gender == g, c(xs, "Satisfaction")]
  lmg <- lmg_by_subsets(d, "Satisfaction", xs)
  rw <- relative_weights(d, "Satisfaction", xs)
  r2 <- r2_of(d, "Satisfaction", xs)
  groups[[g]] <- list(n = nrow(d), r2 = r2, drivers = xs,
                      shapley_share = unname(lmg / r2), relative_weight_share = unname(rw / r2))
  cat(g, " n =", nrow(d), " R2 =", format(r2, digits = 6), "\n")
  print(round(rbind(lmg_share = lmg / r2, rw_share = rw / r2), 5))
}
writeLines(toJSON(list(r_version = R.version.string, groups = groups), auto_unbox = TRUE,
                  digits = NA, pretty = TRUE),
           "tests/reference/group_drivers_reference.json")
