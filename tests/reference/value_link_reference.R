# Fixture and reference numbers for the survey link (satisfaction/value/link.py).
# Makes tests/data/link_scores.csv and tests/data/link_customers.csv (set.seed), then
# computes R's lm/confint, oneway.test (Welch) and kruskal.test on the linked rows.
# Run from the repository root:  Rscript tests/reference/value_link_reference.R
library(jsonlite)
set.seed(20240501)
nc <- 150
cust <- data.frame(customer_id = sprintf("C%03d", 1:nc))
cust$rfm_segment <- sample(c("champions", "loyal", "at_risk", "lost"), nc, replace = TRUE)
cust$abc_class <- sample(c("A", "B", "C"), nc, replace = TRUE, prob = c(.2, .3, .5))
cust$lifecycle_stage <- sample(c("growth", "maturity", "decline"), nc, replace = TRUE)
nr <- 130
resp <- data.frame(respondent = sprintf("R%03d", 1:nr))
resp$customer_id <- sample(c(cust$customer_id[1:110], "X999", "X998"), nr, replace = TRUE)
resp$customer_id[c(5, 17, 42)] <- NA
resp$satisfaction <- round(pmin(100, pmax(0, rnorm(nr, 70, 12))), 2)
resp$loyalty <- round(pmin(100, pmax(0, 0.6 * resp$satisfaction + rnorm(nr, 25, 10))), 2)
# behaviour depends on loyalty for the linked customers
m <- match(cust$customer_id, resp$customer_id)
loy <- ifelse(is.na(m), 60, resp$loyalty[m])
cust$frequency <- 1 + rpois(nc, exp(-1 + 0.03 * loy))
cust$clv <- round(exp(2 + 0.02 * loy + rnorm(nc, 0, 0.4)), 2)
write.csv(resp, "tests/data/link_scores.csv", row.names = FALSE, na = "")
write.csv(cust, "tests/data/link_customers.csv", row.names = FALSE)

# the link: first response of each known customer
ok <- !is.na(resp$customer_id) & resp$customer_id %in% cust$customer_id
first <- ok & !duplicated(ifelse(ok, resp$customer_id, paste0("na", seq_len(nr))))
linked <- merge(resp[first, ], cust, by = "customer_id")
linked$repeat_purchases <- linked$frequency - 1
counts <- list(respondents = nr, respondents_missing_customer_id = sum(is.na(resp$customer_id)),
               respondents_unmatched = sum(!is.na(resp$customer_id) & !ok),
               respondents_repeat_customer = sum(ok & !first), matched = sum(first),
               customers = nc, customers_without_response = nc - sum(first))
reg <- list()
for (y in c("repeat_purchases", "clv")) {
  f <- lm(as.formula(paste(y, "~ satisfaction + loyalty")), data = linked)
  s <- summary(f)$coefficients
  ci <- confint(f)
  reg[[y]] <- list(coef = unname(s[, 1]), se = unname(s[, 2]), t = unname(s[, 3]),
                   p = unname(s[, 4]), lower = unname(ci[, 1]), upper = unname(ci[, 2]),
                   r2 = summary(f)$r.squared, n = nrow(linked))
}
tests <- list()
for (b in c("rfm_segment", "abc_class", "lifecycle_stage")) {
  for (cn in c("satisfaction", "loyalty")) {
    w <- oneway.test(as.formula(paste(cn, "~", b)), data = linked, var.equal = FALSE)
    k <- kruskal.test(as.formula(paste(cn, "~", b)), data = linked)
    tests[[paste(b, cn)]] <- list(F = unname(w$statistic), df1 = unname(w$parameter[1]),
                                  df2 = unname(w$parameter[2]), p = w$p.value,
                                  H = unname(k$statistic), p_kw = k$p.value)
  }
}
write_json(list(counts = counts, regressions = reg, tests = tests),
           "tests/reference/value_link_reference.json", digits = NA, auto_unbox = TRUE)
