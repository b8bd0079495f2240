# Reference for satisfaction/waves.py: the change of each index between two
# waves, as R's Welch t-test t.test(x2, x1) and p.adjust(method = "holm").
# The two waves come from the ECSI bank data (../shared/data/bank_satisfaction.csv):
# wave 1 = odd rows, wave 2 = even rows with every satisfaction item (sat1-sat4)
# raised by 2 points (capped at the scale's top, 10): a planted change of the
# satisfaction index, none elsewhere. Indices as satisfaction/drivers.py computes
# them with equal weights: items rescaled to 0-100 on the 0-10 scale, a
# construct's score the mean of its items, a stage's score the mean of its
# constructs' scores.
# Run from the repository root: Rscript tests/reference/waves_welch.R
d <- read.csv("../shared/data/bank_satisfaction.csv")
wave <- ifelse(seq_len(nrow(d)) %% 2 == 1, 1, 2)
sat <- paste0("sat", 1:4)
d[wave == 2, sat] <- pmin(as.matrix(d[wave == 2, sat]) + 2, 10)
items <- list(Image = paste0("imag", 1:5), Expectation = paste0("expe", 1:5),
              Quality = paste0("qual", 1:5), Value = paste0("val", 1:4),
              Satisfaction = sat, Loyalty = paste0("loy", 1:4))
scores <- sapply(items, function(i) rowMeans(100 * d[, i] / 10))
scores <- cbind(scores, pre_sale = (scores[, "Image"] + scores[, "Expectation"]) / 2,
                in_sale = (scores[, "Quality"] + scores[, "Value"]) / 2)
out <- lapply(colnames(scores), function(k) {
  tt <- t.test(scores[wave == 2, k], scores[wave == 1, k])
  list(id = k, kind = if (k %in% names(items)) "construct" else "stage",
       previous = unname(tt$estimate[2]), current = unname(tt$estimate[1]),
       change = unname(tt$estimate[1] - tt$estimate[2]), change.se = tt$stderr,
       df = unname(tt$parameter), t = unname(tt$statistic), pvalue = tt$p.value,
       ci.lower = tt$conf.int[1], ci.upper = tt$conf.int[2])
})
p <- sapply(out, function(r) r$pvalue)
adj <- p.adjust(p, method = "holm")
for (i in seq_along(out)) out[[i]]$pvalue.adjusted <- adj[i]
jsonlite::write_json(out, "tests/reference/waves_welch.json", auto_unbox = TRUE, digits = NA,
                     pretty = TRUE)
