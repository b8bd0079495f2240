# Reference numbers for the weighted themes of open-ended answers
# (satisfaction.text.themes(weights=); tests/test_text_weights.py).
# Input: tests/reference/text_weights_input.csv (written by text_weights_input.py): the
# bilingual comments of tests/data/comments_bilingual.csv, a weight per respondent and
# the number of terms of each answer. The design: the respondents with an answer
# (non-empty comment), svydesign(ids = ~1, weights = ~weight). Groups: the satisfaction
# index at or below its weighted lower tertile (svyquantile(qrule = "hf7") over all 90
# respondents, the weighted form of R's type 7) is dissatisfied, at or above the upper
# tertile satisfied; the same quantiles at p = 0.1, 0.5, 0.9 check the rule alone.
# For the four planted terms
# (mention = the answer holds the term, case-insensitive; the same answers as the
# tokenizer's, checked by hand in tests/test_text.py):
#   - share: svymean(~m) over all answers; share_dissatisfied / share_satisfied:
#     svyby(~m, ~group, svymean) (domains of the one design);
#   - difference (dissatisfied - satisfied) and its SE: svycontrast on
#     svyby(..., covmat = TRUE);
#   - Kish effective size of each group n_eff = (sum w)^2 / sum w^2, effective mentions
#     y~ = share_group * n_eff, the effective totals n~ = n_eff * weighted mean of the
#     number of terms per answer, the prior alpha_w = a0 * sum(w m) / sum(w n_terms) over
#     all answers (a0 = 100), and Monroe, Colaresi & Quinn's (2008) log-odds, SE and z
#     written out.
# Run from the repository root:  Rscript tests/reference/text_weights_survey.R
suppressPackageStartupMessages({library(survey); library(jsonlite)})
d <- read.csv("tests/reference/text_weights_input.csv", stringsAsFactors = FALSE,
              na.strings = character(0), encoding = "UTF-8")
everyone <- svydesign(ids = ~1, weights = ~weight, data = d)
cuts <- coef(svyquantile(~index, everyone, c(1 / 3, 2 / 3), qrule = "hf7", ci = FALSE))
quantiles <- coef(svyquantile(~index, everyone, c(0.1, 0.5, 0.9), qrule = "hf7", ci = FALSE))
d$group <- ifelse(d$index <= cuts[1], "dissatisfied",
                  ifelse(d$index >= cuts[2], "satisfied", "middle"))
a <- d[nchar(trimws(d$comment)) > 0, ]
terms <- c("waiting time", "等待时间", "friendly staff", "服务热情")
a0 <- 100
design <- svydesign(ids = ~1, weights = ~weight, data = a)
neff <- function(w) sum(w)^2 / sum(w^2)
out <- list(cut_low = unname(cuts[1]), cut_high = unname(cuts[2]),
            quantiles = list(p = c(0.1, 0.5, 0.9), value = unname(quantiles)),
            unweighted_cuts = unname(quantile(d$index, c(1 / 3, 2 / 3), type = 7)),
            answers = nrow(a), groups = as.list(table(a$group)), terms = list())
wd <- a$weight[a$group == "dissatisfied"]; ws <- a$weight[a$group == "satisfied"]
n_d <- neff(wd) * sum(wd * a$n_terms[a$group == "dissatisfied"]) / sum(wd)
n_s <- neff(ws) * sum(ws * a$n_terms[a$group == "satisfied"]) / sum(ws)
for (term in terms) {
  design <- update(design, m = as.numeric(grepl(term, tolower(comment), fixed = TRUE)))
  share <- coef(svymean(~m, design))[[1]]
  by <- svyby(~m, ~group, design, svymean, covmat = TRUE)
  diff <- svycontrast(by, c(dissatisfied = 1, middle = 0, satisfied = -1))
  p_d <- coef(by)[["dissatisfied"]]; p_s <- coef(by)[["satisfied"]]
  m <- design$variables$m
  alpha <- a0 * sum(a$weight * m) / sum(a$weight * a$n_terms)
  y_d <- p_d * neff(wd); y_s <- p_s * neff(ws)
  delta <- log((y_d + alpha) / (n_d + a0 - y_d - alpha)) -
    log((y_s + alpha) / (n_s + a0 - y_s - alpha))
  se <- sqrt(1 / (y_d + alpha) + 1 / (y_s + alpha))
  out$terms[[term]] <- list(share = share, share_dissatisfied = p_d, share_satisfied = p_s,
                            difference = coef(diff)[[1]], difference_se = SE(diff)[[1]],
                            effective_dissatisfied = y_d, effective_satisfied = y_s,
                            log_odds = delta, se = se, z = delta / se)
}
out$effective_n <- list(dissatisfied = neff(wd), satisfied = neff(ws))
out$versions <- list(R = R.version.string, survey = as.character(packageVersion("survey")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/reference/text_weights_survey.json")
