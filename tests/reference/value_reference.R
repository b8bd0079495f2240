# Reference numbers for the customer-value tests (RFM, ABC, Gini) on the CDNOW
# sample, computed with base R independently of our Python/DuckDB code.
# Run from the repository root:  Rscript tests/reference/value_reference.R
library(jsonlite)
tx <- read.csv("tests/data/cdnow_sample.csv", colClasses = c("character", "Date", "integer", "numeric"))
end <- as.Date("1997-09-30")
cal <- tx[tx$date <= end, ]
# purchase occasions: customer-days (all CDNOW amounts are >= 0)
days <- aggregate(amount ~ customer_id + date, data = cal, FUN = sum)
occ <- aggregate(date ~ customer_id, data = days, FUN = length)
names(occ)[2] <- "frequency"
last <- aggregate(date ~ customer_id, data = days, FUN = max)
rev <- aggregate(amount ~ customer_id, data = cal, FUN = sum)
cust <- merge(merge(occ, last), rev)
cust$recency <- as.numeric(end - cust$date)
n <- nrow(cust)
score <- function(x) 1 + floor(5 * (rank(x, ties.method = "min") - 1) / n)
cust$r_score <- score(-cust$recency)
cust$f_score <- score(cust$frequency)
cust$m_score <- score(cust$amount)
rh <- cust$recency < mean(cust$recency)
fh <- cust$frequency > mean(cust$frequency)
mh <- cust$amount > mean(cust$amount)
grp <- ifelse(mh, "important_", "general_")
grp <- paste0(grp, ifelse(rh & fh, "value", ifelse(rh & !fh, "development",
                                             ifelse(!rh & fh, "retention", "winback"))))
cust$value_group <- grp
# ABC: sort by revenue (desc), ties by id; class by cumulative share before the customer
o <- order(-cust$amount, cust$customer_id)
share <- cust$amount[o] / sum(cust$amount)
before <- cumsum(share) - share
cls <- ifelse(before < 0.80, "A", ifelse(before < 0.95, "B", "C"))
cust$abc_class[o] <- cls
top20 <- sum(share[seq_len(ceiling(0.2 * n))])
# Gini from the Lorenz curve (trapezoids), not from the rank formula
x <- sort(cust$amount)
L <- c(0, cumsum(x) / sum(x))
P <- seq(0, 1, length.out = n + 1)
gini <- 1 - sum((P[-1] - P[-(n + 1)]) * (L[-1] + L[-(n + 1)]))
out <- list(
  customers = n,
  means = list(recency = mean(cust$recency), frequency = mean(cust$frequency),
               monetary = mean(cust$amount)),
  top20_share = top20, gini = gini,
  table = cust[, c("customer_id", "recency", "frequency", "amount", "r_score", "f_score",
                   "m_score", "value_group", "abc_class")]
)
write_json(out, "tests/reference/value_reference.json", digits = NA, auto_unbox = TRUE)
