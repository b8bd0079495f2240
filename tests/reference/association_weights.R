# Reference for satisfaction.compare.weighted_association (issue 17, point 1):
# design-based weighted Pearson r and Spearman rho of an index with a numeric
# group variable (age), on the ECSI bank raked by gender and region.
#
# Data: association_weights_data.csv, written by our package from the review's
# bank_w questionnaire (ecsi_bank + region + a simulated age; raking on gender and
# region): respondent, satisfaction and loyalty index (0-100), age (3 set missing),
# w (the raking weights, mean 1; survey::rake of these margins is tested in
# survey_weights.R). Run: Rscript tests/reference/association_weights.R
# (from the repository root) -> association_weights.json
#
# Pearson: r = cov.wt(cor = TRUE); its test and interval from svyglm of the
# weighted-standardized y on the weighted-standardized x (slope = r): t = r / SE on
# the residual df, interval tanh(atanh(r) +- z SE / (1 - r^2)).
# Spearman: the same on the weighted mid-ranks sum(w[x < v]) + sum(w[x == v]) / 2.
# Constant weights: r and rho equal cor() and cor(method = "spearman").
suppressPackageStartupMessages({library(survey); library(jsonlite)})
d <- read.csv("tests/reference/association_weights_data.csv")
wranks <- function(v, w) sapply(v, function(a) sum(w[v < a]) + sum(w[v == a]) / 2)
one <- function(y, x, w, method) {
  ok <- !is.na(y) & !is.na(x) & !is.na(w)
  y <- y[ok]; x <- x[ok]; w <- w[ok]
  if (method == "spearman") { y <- wranks(y, w); x <- wranks(x, w) }
  r <- cov.wt(cbind(y, x), wt = w / sum(w), cor = TRUE)$cor[1, 2]
  m <- cov.wt(cbind(y, x), wt = w / sum(w), method = "ML")
  ys <- (y - m$center[1]) / sqrt(m$cov[1, 1]); xs <- (x - m$center[2]) / sqrt(m$cov[2, 2])
  des <- svydesign(ids = ~1, weights = ~w, data = data.frame(ys = ys, xs = xs, w = w))
  fit <- svyglm(ys ~ xs, design = des)
  co <- summary(fit)$coefficients
  se <- co["xs", "Std. Error"]
  z <- qnorm(0.975)
  list(method = method, n = length(y), estimate = r, slope = unname(coef(fit)["xs"]),
       se = se, statistic = co["xs", "t value"], df = fit$df.residual,
       pvalue = co["xs", "Pr(>|t|)"],
       ci.lower = tanh(atanh(r) - z * se / (1 - r^2)),
       ci.upper = tanh(atanh(r) + z * se / (1 - r^2)),
       n_eff = sum(w)^2 / sum(w^2))
}
out <- list()
for (y in c("satisfaction", "loyalty")) for (m in c("pearson", "spearman")) {
  out[[length(out) + 1]] <- c(list(construct = y), one(d[[y]], d$age, d$w, m))
}
ok <- !is.na(d$age)
const <- list(
  pearson = one(d$satisfaction, d$age, rep(2, nrow(d)), "pearson")$estimate,
  spearman = one(d$satisfaction, d$age, rep(2, nrow(d)), "spearman")$estimate,
  cor_pearson = cor(d$satisfaction[ok], d$age[ok]),
  cor_spearman = cor(d$satisfaction[ok], d$age[ok], method = "spearman"))
write_json(list(survey = as.character(packageVersion("survey")), associations = out,
                constant = const),
           "tests/reference/association_weights.json", auto_unbox = TRUE, digits = NA,
           pretty = TRUE)
