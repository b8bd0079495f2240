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
#     with every driver's score, a domain of the whole design (the three incomplete
#     respondents stay in it): svymean(~d_j, svydesign(ids = ~1, weights = ~w),
#     na.rm = TRUE), its SE and confint() (normal interval).
# Section `rows` (the map's item and purchase-stage rows; tests/test_ipa_rows_weights.py):
# the complete bank survey (/work/shared/data/bank_satisfaction.csv, items on 0-10, the
# same 250 respondents and raking weights), items rescaled to 0-100 (100 x / 10), the
# construct scores the items' means (equal outer weights, = importance_bank_scores.csv),
# the stage scores the means of their constructs (pre_sale: Image, Expectation; in_sale:
# Quality, Value), then
#   - performance of every item and stage: svymean(~y, svydesign(ids = ~1, weights = ~w))
#     with its SE and confint() (normal interval);
#   - the Shapley shares of R^2 of Satisfaction on the four dimensions, from every
#     subset's lm(weights = w) as above, on the 250 complete respondents;
#   - importance of a stage = the sum of its dimensions' shares; of an item = its
#     standardized loading from lavaan's weighted fit (sampling.weights, the bank case of
#     lavaan_sampling_weights.json, std.all) x its construct's share.
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

# the respondents without every driver's score stay in the design: the complete ones are
# a domain of all 250 (svymean(na.rm = TRUE), as satisfaction.weights.weighted_mean)
diffs <- as.matrix(bank[, xs]) - rowMeans(as.matrix(bank[, xs]))
colnames(diffs) <- paste0("d_", xs)
dd <- cbind(bank, diffs)
des <- svydesign(ids = ~1, weights = ~w, data = dd)
m <- svymean(as.formula(paste0("~", paste(colnames(diffs), collapse = " + "))), des,
             na.rm = TRUE)
ci <- confint(m)

# -- the item and purchase-stage rows ------------------------------------------------
raw <- read.csv("/work/shared/data/bank_satisfaction.csv", stringsAsFactors = FALSE)
stopifnot(identical(raw$respondent, bank$respondent))
blocks <- list(Image = paste0("imag", 1:5), Expectation = paste0("expe", 1:5),
               Quality = paste0("qual", 1:5), Value = paste0("val", 1:4),
               Satisfaction = paste0("sat", 1:4))
item_ids <- unlist(blocks, use.names = FALSE)
full <- data.frame(respondent = raw$respondent, w = ref$rake$weights)
for (i in item_ids) full[[i]] <- 100 * raw[[i]] / 10
for (cn in names(blocks)) full[[cn]] <- rowMeans(full[, blocks[[cn]]])
plain_scores <- read.csv("tests/reference/importance_bank_scores.csv")
stopifnot(isTRUE(all.equal(as.matrix(full[, names(blocks)]),
                           as.matrix(plain_scores[, names(blocks)]), tolerance = 1e-12,
                           check.attributes = FALSE)))
stage_of <- list(pre_sale = c("Image", "Expectation"), in_sale = c("Quality", "Value"))
for (s in names(stage_of)) full[[paste0("stage_", s)]] <- rowMeans(full[, stage_of[[s]]])
fdes <- svydesign(ids = ~1, weights = ~w, data = full)
perf <- function(v) {
  m <- svymean(as.formula(paste0("~", paste(v, collapse = " + "))), fdes)
  ci <- confint(m)
  list(mean = unname(coef(m)), se = unname(SE(m)), lower = unname(ci[, 1]),
       upper = unname(ci[, 2]))
}
r2_full <- function(s) {
  if (length(s) == 0) return(0)
  summary(lm(reformulate(s, y), data = full, weights = w))$r.squared
}
lmg_full <- setNames(numeric(p), xs)
for (j in xs) {
  others <- setdiff(xs, j)
  for (k in 0:(p - 1)) {
    wk <- factorial(k) * factorial(p - k - 1) / factorial(p)
    sets <- if (k == 0) list(character(0)) else combn(others, k, simplify = FALSE)
    for (s in sets) lmg_full[j] <- lmg_full[j] + wk * (r2_full(c(s, j)) - r2_full(s))
  }
}
share_full <- lmg_full / r2_full(xs)
lav <- fromJSON("tests/reference/lavaan_sampling_weights.json")$bank$parameters
lav <- lav[lav$op == "=~", ]
driver_items <- unlist(blocks[xs], use.names = FALSE)
item_construct <- rep(xs, lengths(blocks[xs]))
loading <- sapply(seq_along(driver_items), function(k)
  lav$std.all[lav$lhs == item_construct[k] & lav$rhs == driver_items[k]])
rows <- list(
  n = nrow(full), items = driver_items, item_construct = item_construct,
  item_loading = unname(loading),
  item_importance = unname(loading * share_full[item_construct]),
  item_performance = perf(driver_items),
  stages = names(stage_of),
  stage_importance = unname(sapply(stage_of, function(v) sum(share_full[v]))),
  stage_performance = perf(paste0("stage_", names(stage_of))),
  shapley_share = unname(share_full), r2 = r2_full(xs))

out <- list(outcome = y, drivers = xs, n = nrow(d), blanked_value_rows = c(5, 17, 42),
            r2 = r2_of(xs), lmg = unname(lmg), shapley_share = unname(lmg / r2_of(xs)),
            relative_weight = rw, relative_weight_share = rw / sum(rw),
            r = unname(rxy), beta = unname(beta),
            diff_mean = unname(coef(m)), diff_se = unname(SE(m)),
            diff_lower = unname(ci[, 1]), diff_upper = unname(ci[, 2]), rows = rows,
            versions = list(R = R.version.string,
                            survey = as.character(packageVersion("survey")),
                            lavaan_reference = fromJSON(
                              "tests/reference/lavaan_sampling_weights.json")$versions$lavaan))
write_json(out, "tests/reference/ipa_weights_survey.json", digits = 15, auto_unbox = TRUE,
           pretty = TRUE)
