# Reference numbers for satisfaction/topbox.py on the ECSI bank data (0-10 scale,
# 250 respondents, no reverse-worded items), computed independently in base R:
#   - top-2-box share: answers 9 or 10; bottom-2-box: answers 0 or 1;
#   - the 95% Wilson score interval of the top-2-box share: prop.test(x, n,
#     correct = FALSE)$conf.int (Wilson 1927);
#   - the share of every answer 0..10 (table() over factor levels 0:10);
#   - NPS of loy3 ("I would recommend the bank to friends"): promoters 9-10,
#     detractors 0-6, NPS = 100 (P - D), SE = 100 sqrt((P + D - (P - D)^2) / n),
#     95% Wald interval NPS -/+ qnorm(0.975) SE.
# A second data set blanks five answers of imag1 (rows 1-5) to check that missing
# answers leave n and are not counted in either box.
# Run from the repository root:  Rscript tests/reference/topbox_reference.R
# Output: tests/reference/topbox_reference.json
library(jsonlite)

bank <- read.csv("../shared/data/bank_satisfaction.csv")
items <- setdiff(names(bank), c("respondent", "gender"))

boxes <- function(d) {
  out <- list()
  for (it in items) {
    x <- d[[it]]
    x <- x[!is.na(x)]
    n <- length(x)
    top <- sum(x >= 9)
    ci <- prop.test(top, n, correct = FALSE)$conf.int
    dist <- as.numeric(table(factor(x, levels = 0:10))) / n
    out[[it]] <- list(n = n, top = top / n, bottom = sum(x <= 1) / n,
                      top_lower = ci[1], top_upper = ci[2], distribution = dist)
  }
  out
}

nps <- function(x) {
  x <- x[!is.na(x)]
  n <- length(x)
  p <- mean(x >= 9)
  d <- mean(x <= 6)
  s <- 100 * (p - d)
  se <- 100 * sqrt((p + d - (p - d)^2) / n)
  list(n = n, promoters = p, detractors = d, nps = s, se = se,
       lower = s - qnorm(0.975) * se, upper = s + qnorm(0.975) * se)
}

blanked <- bank
blanked$imag1[1:5] <- NA
res <- list(bank = boxes(bank), blanked = boxes(blanked)["imag1"], nps_loy3 = nps(bank$loy3))
write_json(res, "tests/reference/topbox_reference.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
