# Reference for the weighted survey link (satisfaction.value.link.link_survey(weights=),
# issue 17 point 1): tests/test_link_weights.py.
# Data: tests/data/link_scores.csv and link_customers.csv (value_link_reference.R) and
# respondent weights simulated here (set.seed(17), log-normal, mean 1) written to
# tests/reference/link_weights.csv. The linked respondents (first response of each
# known customer) are the design svydesign(ids = ~1, weights = ~w).
#   - segment means: svyby(~y, ~segment, design, svymean) (mean, SE); weighted SD
#     sqrt(svyvar) within each segment; test across segments: regTermTest of
#     svyglm(y ~ segment) (Wald F on (k - 1, n - k) df);
#   - relations: weighted Pearson r = cov.wt(cor = TRUE), Spearman on the weighted
#     mid-ranks, test and interval from svyglm of the weighted-standardized outcome
#     on the weighted-standardized index (as association_weights.R), the outcome clv
#     on the log scale log1p(clv);
#   - mediation point estimates: lm(m ~ x, weights = w), lm(y ~ x + m, weights = w).
# Run from the repository root:  Rscript tests/reference/link_weights.R
suppressPackageStartupMessages({library(survey); library(jsonlite)})
resp <- read.csv("tests/data/link_scores.csv", colClasses = c(customer_id = "character"))
cust <- read.csv("tests/data/link_customers.csv")
set.seed(17)
w <- exp(rnorm(nrow(resp), 0, 0.4))
resp$w <- w / mean(w)
write.csv(data.frame(respondent = resp$respondent, w = sprintf("%.17g", resp$w)),
          "tests/reference/link_weights.csv", row.names = FALSE, quote = FALSE)
ok <- !is.na(resp$customer_id) & resp$customer_id != "" & resp$customer_id %in% cust$customer_id
first <- ok & !duplicated(ifelse(ok, resp$customer_id, paste0("na", seq_len(nrow(resp)))))
linked <- merge(resp[first, ], cust, by = "customer_id")
linked$repeat_purchases <- linked$frequency - 1
linked$log_clv <- log1p(linked$clv)
des <- svydesign(ids = ~1, weights = ~w, data = linked)

segments <- list()
for (b in c("rfm_segment", "abc_class", "lifecycle_stage")) for (y in c("satisfaction", "loyalty")) {
  by <- svyby(as.formula(paste("~", y)), as.formula(paste("~", b)), des, svymean)
  sds <- sapply(as.character(by[[b]]), function(g)
    sqrt(coef(svyvar(as.formula(paste("~", y)), subset(des, get(b) == g)))))
  fit <- svyglm(as.formula(paste(y, "~", b)), design = des)
  tt <- regTermTest(fit, as.formula(paste("~", b)))
  segments[[length(segments) + 1]] <- list(
    by = b, construct = y, group = as.character(by[[b]]), mean = unname(coef(by)),
    se = unname(SE(by)), sd = unname(sds), F = unname(tt$Ftest), df = tt$df, ddf = tt$ddf,
    p = unname(tt$p))
}

wranks <- function(v, w) sapply(v, function(a) sum(w[v < a]) + sum(w[v == a]) / 2)
assoc <- function(y, x, w, method) {
  ok <- !is.na(y) & !is.na(x)
  y <- y[ok]; x <- x[ok]; w <- w[ok]
  if (method == "spearman") { y <- wranks(y, w); x <- wranks(x, w) }
  r <- cov.wt(cbind(y, x), wt = w / sum(w), cor = TRUE)$cor[1, 2]
  m <- cov.wt(cbind(y, x), wt = w / sum(w), method = "ML")
  ys <- (y - m$center[1]) / sqrt(m$cov[1, 1]); xs <- (x - m$center[2]) / sqrt(m$cov[2, 2])
  d <- svydesign(ids = ~1, weights = ~w, data = data.frame(ys = ys, xs = xs, w = w))
  co <- summary(svyglm(ys ~ xs, design = d))$coefficients
  se <- co["xs", "Std. Error"]
  list(n = length(y), r = r, p = co["xs", "Pr(>|t|)"],
       lower = tanh(atanh(r) - qnorm(0.975) * se / (1 - r^2)),
       upper = tanh(atanh(r) + qnorm(0.975) * se / (1 - r^2)))
}
relations <- list(); mediation <- list()
for (o in c("repeat_purchases", "clv")) {
  yv <- if (o == "clv") linked$log_clv else linked$repeat_purchases
  for (cn in c("satisfaction", "loyalty")) {
    p <- assoc(yv, linked[[cn]], linked$w, "pearson")
    s <- assoc(yv, linked[[cn]], linked$w, "spearman")
    relations[[paste(cn, o)]] <- list(n = p$n, r = p$r, lower = p$lower, upper = p$upper,
                                      p = p$p, rho = s$r, p_rho = s$p)
  }
  d <- data.frame(x = linked$satisfaction, m = linked$loyalty, y = yv, w = linked$w)
  a <- coef(lm(m ~ x, data = d, weights = w))[["x"]]
  f <- coef(lm(y ~ x + m, data = d, weights = w))
  mediation[[o]] <- list(a = a, b = f[["m"]], direct = f[["x"]], indirect = a * f[["m"]],
                         total = f[["x"]] + a * f[["m"]],
                         total_lm = coef(lm(y ~ x, data = d, weights = w))[["x"]])
}
write_json(list(survey = as.character(packageVersion("survey")), segments = segments,
                relations = relations, mediation = mediation),
           "tests/reference/link_weights.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
