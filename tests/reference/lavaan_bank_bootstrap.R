# How often does lavaan's bootstrap of the ECSI bank model fail?
# (A reference for the failure share that `satisfaction fit --bootstrap` reports on
# the same model; not used by the test suite.)
#
#   apt-get install r-base-core r-cran-lavaan
#   Rscript tests/reference/lavaan_bank_bootstrap.R > tests/reference/lavaan_bank_bootstrap.txt
#
# The model is questionnaires/ecsi_bank.yaml rendered by Questionnaire.to_lavaan().
suppressMessages(library(lavaan))
d <- read.csv("../shared/data/bank_satisfaction.csv")
model <- "
Image =~ imag1 + imag2 + imag3 + imag4 + imag5
Expectation =~ expe1 + expe2 + expe3 + expe4 + expe5
Quality =~ qual1 + qual2 + qual3 + qual4 + qual5
Value =~ val1 + val2 + val3 + val4
Satisfaction =~ sat1 + sat2 + sat3 + sat4
Loyalty =~ loy1 + loy2 + loy3 + loy4
Expectation ~ Image
Quality ~ Expectation
Value ~ Expectation + Quality
Satisfaction ~ Image + Expectation + Quality + Value
Loyalty ~ Image + Satisfaction
"
fit <- sem(model, data = d)
set.seed(1)
b <- suppressWarnings(bootstrapLavaan(fit, R = 200, FUN = function(f) coef(f)))
cat("lavaan", as.character(packageVersion("lavaan")), "\n")
cat("draws:", 200, " failed or not converged:", length(attr(b, "error.idx")), "\n")
