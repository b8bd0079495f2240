# Reference for satisfaction.compare.index_association: Pearson and Spearman
# correlations of two indices with a numeric respondent attribute (age, with
# ties and two missing values), as R's cor.test gives them; the Spearman
# interval is the Fisher-z interval with Bonett & Wright's (2000) standard error
# sqrt((1 + rho^2 / 2) / (n - 3)), written out here from the formula.
#   Rscript tests/reference/r_correlation_reference.R   (from the repository root)
d <- read.csv("tests/reference/age_index.csv")
out <- list()
for (y in c("index_a", "index_b")) {
  ok <- complete.cases(d$age, d[[y]])
  p <- cor.test(d[[y]][ok], d$age[ok], method = "pearson")
  s <- suppressWarnings(cor.test(d[[y]][ok], d$age[ok], method = "spearman", exact = FALSE))
  n <- sum(ok); rho <- unname(s$estimate); se <- sqrt((1 + rho^2 / 2) / (n - 3))
  out[[y]] <- list(
    n = n,
    pearson = list(estimate = unname(p$estimate), ci = unname(p$conf.int[1:2]),
                   statistic = unname(p$statistic), df = unname(p$parameter),
                   pvalue = p$p.value),
    spearman = list(estimate = rho, ci = tanh(atanh(rho) + c(-1, 1) * qnorm(0.975) * se),
                    pvalue = s$p.value))
}
writeLines(jsonlite::toJSON(out, digits = 12, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/r_correlation_reference.json")
