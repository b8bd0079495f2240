# Reference numbers for satisfaction.weights (tests/test_weights.py), from R's survey.
# Data: the shared bank survey (/work/shared/data/bank_satisfaction.csv, 250 customers)
# with its gender and a derived second variable `segment` (respondents R001-R100 "A",
# R101-R175 "B", R176-R250 "C"; the test derives it the same way).
# Targets: gender female 0.5, male 0.5; segment A 0.3, B 0.3, C 0.4.
# Run: Rscript tests/reference/survey_weights.R  (writes survey_weights.json beside it)
suppressPackageStartupMessages({library(survey); library(jsonlite)})
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
d <- read.csv("/work/shared/data/bank_satisfaction.csv", stringsAsFactors = FALSE)
num <- as.integer(sub("^R", "", d$respondent))
d$segment <- ifelse(num <= 100, "A", ifelse(num <= 175, "B", "C"))
n <- nrow(d)
d$sat_index <- rowMeans(d[, c("sat1", "sat2", "sat3", "sat4")]) / 10 * 100
d$loy_index <- rowMeans(d[, c("loy1", "loy2", "loy3", "loy4")]) / 10 * 100

margins <- function(n) list(
  data.frame(gender = c("female", "male"), Freq = c(0.5, 0.5) * n),
  data.frame(segment = c("A", "B", "C"), Freq = c(0.3, 0.3, 0.4) * n))
ctrl <- list(maxit = 1000, epsilon = 1e-10)   # epsilon < 1: relative to the total weight

raked_weights <- function(data) {
  base <- svydesign(ids = ~1, weights = ~rep(1, nrow(data)), data = data)
  r <- rake(base, list(~gender, ~segment), margins(nrow(data)), control = ctrl)
  r
}
kish <- function(w) length(w) * sum(w^2) / sum(w)^2

r <- raked_weights(d)
w <- weights(r)
# trimming: bounds on the mean-1 weights, strict as our trim
t <- trimWeights(r, lower = 0.8, upper = 1.2, strict = TRUE)
wt <- weights(t)
# post-stratification on gender alone
base <- svydesign(ids = ~1, weights = ~rep(1, n), data = d)
ps <- postStratify(base, ~gender, data.frame(gender = c("female", "male"), Freq = c(0.5, 0.5) * n))
wp <- weights(ps)

# the weighted statistics use the final weights as fixed probability weights
des <- svydesign(ids = ~1, weights = ~w, data = transform(d, w = w))
items <- c("sat1", "sat2", "loy3", "qual1", "val2")
item_stats <- lapply(items, function(v) {
  f <- as.formula(paste0("~", v))
  m <- svymean(f, des, deff = "replace")
  top <- as.formula(paste0("~I(", v, " >= 9)"))
  tm <- svymean(top, des)
  ci <- svyciprop(top, des, method = "logit", df = Inf)
  list(item = v, mean = unname(coef(m)), se = as.numeric(SE(m)), deff = unname(deff(m)),
       ci = unname(as.numeric(confint(m))),
       top = unname(coef(tm)[2]), top_se = unname(SE(tm)[2]),
       top_ci = unname(as.numeric(attr(ci, "ci"))))
})
index_stats <- lapply(c("sat_index", "loy_index"), function(v) {
  m <- svymean(as.formula(paste0("~", v)), des, deff = "replace")
  list(index = v, mean = unname(coef(m)), se = as.numeric(SE(m)), deff = unname(deff(m)))
})
tt <- svyttest(sat_index ~ gender, des)
g3 <- svyglm(sat_index ~ segment, des)
wald <- regTermTest(g3, ~segment)
by_gender <- svyby(~sat_index, ~gender, des, svymean)

# respondents R001-R005 without gender: left out of the raking
dm <- d
dm$gender[1:5] <- NA
rm <- raked_weights(dm[!is.na(dm$gender), ])
wm <- weights(rm)

# a weight column: the raked weights times 3 (rescaled to mean 1 by us)
dc <- transform(d, w = w * 3)
dcw <- svydesign(ids = ~1, weights = ~w, data = dc)
mc <- svymean(~sat1, dcw)

out <- list(
  n = n,
  rake = list(respondent = d$respondent, weights = unname(w), kish_deff = kish(w),
              effective_n = sum(w)^2 / sum(w^2),
              achieved_gender = as.numeric(svytable(~gender, r) / sum(w)),
              achieved_segment = as.numeric(svytable(~segment, r) / sum(w))),
  trim = list(lower = 0.8, upper = 1.2, weights = unname(wt), kish_deff = kish(wt),
              achieved_gender = as.numeric(svytable(~gender, t) / sum(wt))),
  poststratify = list(weights = unname(wp), kish_deff = kish(wp)),
  items = item_stats,
  indices = index_stats,
  svyttest = list(statistic = unname(tt$statistic), df = unname(tt$parameter),
                  p = unname(tt$p.value), difference = unname(tt$estimate)),
  by_gender = list(mean = unname(coef(by_gender)), se = unname(SE(by_gender))),
  wald = list(F = as.numeric(wald$Ftest), df = unname(wald$df), ddf = unname(wald$ddf),
              p = unname(as.numeric(wald$p))),
  rake_missing = list(respondent = dm$respondent[!is.na(dm$gender)], weights = unname(wm),
                      kish_deff = kish(wm)),
  column = list(mean = unname(coef(mc)), se = as.numeric(SE(mc))),
  versions = list(R = R.version.string, survey = as.character(packageVersion("survey")))
)
write_json(out, file.path(here, "survey_weights.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
