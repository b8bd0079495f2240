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

# missing answers: sat1 (and the satisfaction index) unanswered by R003, R050, R120 and
# R201. With na.rm = TRUE survey treats the answered respondents as a domain of the whole
# design: the variance keeps the design's n/(n-1) (n = 250, every weighted respondent;
# the subset keeps fpc$sampsize), the unanswered contribute zero; degrees of freedom of
# svyttest / regTermTest are those of the answered respondents.
unanswered <- c(3, 50, 120, 201)
dna <- transform(d, w = w)
dna$sat1[unanswered] <- NA
dna$sat_index[unanswered] <- NA
dna$nps_score <- 100 * ((dna$sat1 >= 9) - (dna$sat1 <= 6))
desna <- svydesign(ids = ~1, weights = ~w, data = dna)
mna <- svymean(~sat1, desna, deff = "replace", na.rm = TRUE)
tmna <- svymean(~I(sat1 >= 9), desna, na.rm = TRUE)
cina <- svyciprop(~I(sat1 >= 9), desna, method = "logit", df = Inf, na.rm = TRUE)
ina <- svymean(~sat_index, desna, deff = "replace", na.rm = TRUE)
npsna <- svymean(~nps_score, desna, na.rm = TRUE)
byna <- svyby(~sat_index, ~gender, desna, svymean, na.rm = TRUE)
byna1 <- svyby(~sat1, ~segment, desna, svymean, na.rm = TRUE)
ttna <- svyttest(sat_index ~ gender, desna)
waldna <- regTermTest(svyglm(sat_index ~ segment, desna), ~segment)
missing_answers <- list(
  respondent = d$respondent[unanswered],
  sat1 = list(mean = unname(coef(mna)), se = as.numeric(SE(mna)), deff = unname(deff(mna)),
              ci = unname(as.numeric(confint(mna))), n = sum(!is.na(dna$sat1)),
              top = unname(coef(tmna)[2]), top_se = unname(SE(tmna)[2]),
              top_ci = unname(as.numeric(attr(cina, "ci")))),
  sat_index = list(mean = unname(coef(ina)), se = as.numeric(SE(ina)),
                   deff = unname(deff(ina))),
  nps = list(mean = unname(coef(npsna)), se = as.numeric(SE(npsna))),
  by_gender = list(mean = unname(coef(byna)), se = unname(SE(byna))),
  sat1_by_segment = list(mean = unname(coef(byna1)), se = unname(SE(byna1))),
  svyttest = list(statistic = unname(ttna$statistic), df = unname(ttna$parameter),
                  p = unname(ttna$p.value), difference = unname(ttna$estimate)),
  wald = list(F = as.numeric(waldna$Ftest), df = unname(waldna$df),
              ddf = unname(waldna$ddf), p = unname(as.numeric(waldna$p))))

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
  missing_answers = missing_answers,
  versions = list(R = R.version.string, survey = as.character(packageVersion("survey")))
)
write_json(out, file.path(here, "survey_weights.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
