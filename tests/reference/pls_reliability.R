# Standardized Cronbach's alpha of each ECSI block on the mobi data (1-10 scale),
# psych::alpha()$total$std.alpha, for tests/test_pls.py::test_reliability.
# Data: /tmp/mobi_1_10.csv written by tests/reference/pls_reference.py's mobi_1_10().
library(psych)
library(jsonlite)
d <- read.csv("/tmp/mobi_1_10.csv")
blocks <- list(Image = paste0("ima", 1:5), Expectation = paste0("exp", 1:3),
               Quality = paste0("qua", 1:7), Value = paste0("val", 1:2),
               Satisfaction = paste0("sat", 1:3), Loyalty = paste0("loy", 1:3))
out <- lapply(blocks, function(b) psych::alpha(d[, b], warnings = FALSE)$total$std.alpha)
writeLines(toJSON(list(source = "R psych::alpha std.alpha", std_alpha = out), auto_unbox = TRUE,
                  digits = 12, pretty = TRUE), "tests/reference/pls_reliability.json")
