# Reference numbers for the survey link's relations with behaviour
# (satisfaction/value/link.py: correlation() and mediation()).
# Reads the fixture made by value_link_reference.R, links it the same way, and computes
#   * cor.test (Pearson, Fisher-z 95% interval; Spearman with exact = FALSE) of each
#     construct with each outcome (repeat_purchases as is, clv as log(1 + clv));
#   * the mediation satisfaction -> loyalty -> outcome by lm(): a (loyalty ~ satisfaction),
#     c' and b (outcome ~ satisfaction + loyalty), c (outcome ~ satisfaction);
#   * a manual percentile bootstrap (R's own RNG, 5000 resamples of the linked rows) of
#     a, b, c', a*b and c, to compare with our bootstrap within Monte Carlo error.
# Run from the repository root:  Rscript tests/reference/value_mediation_reference.R
library(jsonlite)
resp <- read.csv("tests/data/link_scores.csv", colClasses = c(customer_id = "character"))
cust <- read.csv("tests/data/link_customers.csv")
ok <- !is.na(resp$customer_id) & resp$customer_id != "" & resp$customer_id %in% cust$customer_id
first <- ok & !duplicated(ifelse(ok, resp$customer_id, paste0("na", seq_len(nrow(resp)))))
linked <- merge(resp[first, ], cust, by = "customer_id")
linked$repeat_purchases <- linked$frequency - 1
linked$log_clv <- log1p(linked$clv)
outcomes <- c(repeat_purchases = "repeat_purchases", clv = "log_clv")

relations <- list()
mediation <- list()
set.seed(7)
B <- 5000
for (name in names(outcomes)) {
  y <- outcomes[[name]]
  for (cn in c("satisfaction", "loyalty")) {
    p <- cor.test(linked[[cn]], linked[[y]])
    s <- suppressWarnings(cor.test(linked[[cn]], linked[[y]], method = "spearman",
                                   exact = FALSE))
    relations[[paste(cn, name)]] <- list(
      n = nrow(linked), r = unname(p$estimate), lower = p$conf.int[1],
      upper = p$conf.int[2], p = p$p.value, rho = unname(s$estimate), p_rho = s$p.value)
  }
  d <- data.frame(x = linked$satisfaction, m = linked$loyalty, y = linked[[y]])
  paths <- function(d) {
    a <- unname(coef(lm(m ~ x, data = d))["x"])
    f <- coef(lm(y ~ x + m, data = d))
    c(a = a, b = unname(f["m"]), direct = unname(f["x"]), indirect = a * unname(f["m"]),
      total = unname(coef(lm(y ~ x, data = d))["x"]))
  }
  est <- paths(d)
  boot <- t(replicate(B, paths(d[sample.int(nrow(d), replace = TRUE), ])))
  ci <- apply(boot, 2, quantile, probs = c(0.025, 0.975), type = 7)
  mediation[[name]] <- list(
    n = nrow(d), estimate = as.list(est), se = as.list(apply(boot, 2, sd)),
    lower = as.list(ci[1, ]), upper = as.list(ci[2, ]), draws = B)
}
write_json(list(relations = relations, mediation = mediation),
           "tests/reference/value_mediation_reference.json", digits = NA, auto_unbox = TRUE)
