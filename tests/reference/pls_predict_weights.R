# Reference numbers for weighted PLSpredict (satisfaction.pls_predict,
# tests/test_pls_predict_weights.py): the linear-model benchmark as weighted least
# squares and the weighted prediction metrics, on one fixed training/test split.
# Data: the shared bank survey (/work/shared/data/bank_satisfaction.csv, 250 customers),
# weights: its raking weights (survey_weights.json, rake.weights, R's survey::rake).
# Split: respondents 5, 10, ..., 250 (every fifth row) are the test set, the others train.
# Model (the test's): IMAG =~ imag1-3, VAL <~ val1-3, SAT =~ sat1-3, LOY =~ loy1-3,
# SAT ~ IMAG + VAL, LOY ~ SAT + IMAG. LM benchmark: each endogenous indicator regressed
# on the indicators of the exogenous constructs (EA: IMAG, VAL) or of its construct's
# direct antecedents (DA), lm(weights = w) on the training rows, predict() on the test rows.
# Metrics of those predictions over the test rows with their weights:
# rmse = sqrt(weighted.mean(e^2, w)), mae = weighted.mean(|e|, w),
# q2 = 1 - sum(w e^2) / sum(w (y - ybar_train)^2), ybar_train = weighted.mean(y_train, w_train).
# Run: Rscript tests/reference/pls_predict_weights.R  (writes pls_predict_weights.json)
suppressPackageStartupMessages(library(jsonlite))
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
d <- read.csv("/work/shared/data/bank_satisfaction.csv", stringsAsFactors = FALSE)
ref <- fromJSON(file.path(here, "survey_weights.json"))
stopifnot(identical(ref$rake$respondent, d$respondent))
d$w <- ref$rake$weights
test <- seq(5, nrow(d), by = 5)
train <- setdiff(seq_len(nrow(d)), test)
blocks <- list(IMAG = paste0("imag", 1:3), VAL = paste0("val", 1:3),
               SAT = paste0("sat", 1:3), LOY = paste0("loy", 1:3))
sources <- list(EA = list(SAT = c("IMAG", "VAL"), LOY = c("IMAG", "VAL")),
                DA = list(SAT = c("IMAG", "VAL"), LOY = c("SAT", "IMAG")))
out <- list(test = test - 1L, items = c(blocks$SAT, blocks$LOY))
for (tech in names(sources)) {
  res <- list()
  for (con in c("SAT", "LOY")) {
    xs <- unlist(blocks[sources[[tech]][[con]]])
    for (y in blocks[[con]]) {
      f <- as.formula(paste(y, "~", paste(xs, collapse = " + ")))
      fit <- lm(f, data = d[train, ], weights = w)
      pred <- unname(predict(fit, newdata = d[test, ]))
      e <- d[test, y] - pred
      wt <- d$w[test]
      ybar <- weighted.mean(d[train, y], d$w[train])
      res[[y]] <- list(prediction = pred, train_mean = ybar,
                       rmse = sqrt(weighted.mean(e^2, wt)), mae = weighted.mean(abs(e), wt),
                       q2_predict = 1 - sum(wt * e^2) / sum(wt * (d[test, y] - ybar)^2))
    }
  }
  out[[tech]] <- res
}
out$versions <- list(R = R.version.string)
write_json(out, file.path(here, "pls_predict_weights.json"), digits = 15, auto_unbox = TRUE,
           pretty = TRUE)
