# The raked bank survey shared by the weighted lavaan reference scripts (sourced by
# lavaan_cfa_weights.R, lavaan_fiml_weights.R, lavaan_invariance_weights.R and
# lavaan_sampling_weights.R): the bank data set with a segment made from the
# respondent number (A: 1-100, B: 101-175, C: the rest) and weights w raked by R's
# survey to gender 50/50 and segment 30/30/40 (satisfaction.weights.rake is tested
# against the same call in survey_weights.R). Defines bank, num, n, base, raked.
bank <- read.csv("/work/shared/data/bank_satisfaction.csv", stringsAsFactors = FALSE)
num <- as.integer(sub("^R", "", bank$respondent))
bank$segment <- ifelse(num <= 100, "A", ifelse(num <= 175, "B", "C"))
n <- nrow(bank)
base <- svydesign(ids = ~1, weights = ~rep(1, n), data = bank)
raked <- rake(base, list(~gender, ~segment),
              list(data.frame(gender = c("female", "male"), Freq = c(0.5, 0.5) * n),
                   data.frame(segment = c("A", "B", "C"), Freq = c(0.3, 0.3, 0.4) * n)),
              control = list(maxit = 1000, epsilon = 1e-10))
bank$w <- weights(raked)
