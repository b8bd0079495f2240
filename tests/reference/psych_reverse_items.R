# Reference for the reverse-item hint (satisfaction.reliability.reverse_item_hints):
# for each bfi block (A, C, E, N, O; items 1-6, several reverse-worded), the items
# psych::alpha(check.keys = TRUE) would reverse (negative loading on the first
# principal component) and the corrected item-total correlations r.drop of the
# raw items (pairwise-complete covariances).
#   Rscript tests/reference/psych_reverse_items.R   (from the repository root)
suppressPackageStartupMessages(library(psych))
d <- read.csv("tests/reference/bfi_raw.csv")
out <- list()
for (b in c("A", "C", "E", "N", "O")) {
  x <- d[, paste0(b, 1:5)]
  raw <- suppressWarnings(alpha(x, check.keys = FALSE, warnings = FALSE))
  keyed <- suppressWarnings(alpha(x, check.keys = TRUE, warnings = FALSE))
  keys <- unlist(keyed$keys)
  out[[b]] <- list(
    r_drop = setNames(as.list(unname(raw$item.stats$r.drop)), names(x)),
    reversed = I(sub("^-", "", keys[startsWith(keys, "-")]))
  )
}
writeLines(jsonlite::toJSON(out, digits = 10, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/psych_reverse_items.json")
