# Reference for satisfaction.report.context.mean_interval: the 95% t-interval of a
# group mean from its mean, SD and n, which must equal R's t.test(x)$conf.int.
# Data: the ECSI bank data, answers to sat1 and loy3 by gender.
# Run from the repository root:  Rscript tests/reference/group_means_reference.R
# Output: tests/reference/group_means_reference.json
library(jsonlite)
bank <- read.csv("../shared/data/bank_satisfaction.csv")
out <- list()
for (item in c("sat1", "loy3")) {
  for (g in sort(unique(bank$gender))) {
    x <- bank[[item]][bank$gender == g]
    ci <- t.test(x)$conf.int
    out[[length(out) + 1]] <- list(item = item, gender = g, n = length(x), mean = mean(x),
                                   sd = sd(x), lower = ci[1], upper = ci[2])
  }
}
write_json(out, "tests/reference/group_means_reference.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
