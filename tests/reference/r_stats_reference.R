# Reference numbers for tests/test_drivers.py and tests/test_compare.py.
# Run from the repository root:  Rscript tests/reference/r_stats_reference.R
# Writes tests/reference/compare_bank.json. Needs R >= 4 with jsonlite and car.
#
# Construct scores: every item rescaled (x - 0) / (10 - 0) * 100 (questionnaires/
# ecsi_bank.yaml reads the bank items on a 0-10 scale), averaged with equal
# weights within the construct.
# Derived grouping variables (same definitions in the Python tests):
#   band     = (row number - 1) %% 3, as text "0", "1", "2"   (three groups)
#   high_sat = "yes" if sat1 >= 8 else "no"                    (2 x 2 with gender)
suppressPackageStartupMessages({library(jsonlite); library(car)})

d <- read.csv("/work/shared/data/bank_satisfaction.csv", stringsAsFactors = FALSE)
constructs <- list(
  Image = paste0("imag", 1:5), Expectation = paste0("expe", 1:5),
  Quality = paste0("qual", 1:5), Value = paste0("val", 1:4),
  Satisfaction = paste0("sat", 1:4), Loyalty = paste0("loy", 1:4))
scores <- sapply(constructs, function(items) rowMeans(as.matrix(d[, items]) / 10 * 100))
d$band <- as.character((seq_len(nrow(d)) - 1) %% 3)
d$high_sat <- ifelse(d$sat1 >= 8, "yes", "no")

out <- list()

# -- indices: mean and 95% t-interval -------------------------------------------
out$indices <- lapply(constructs, function(x) NULL)
for (cn in names(constructs)) {
  tt <- t.test(scores[, cn])
  out$indices[[cn]] <- list(index = unname(tt$estimate), se = unname(tt$stderr),
                            ci.lower = tt$conf.int[1], ci.upper = tt$conf.int[2])
}
item_t <- t.test(d$imag5 / 10 * 100)
out$item_imag5 <- list(index = unname(item_t$estimate), ci.lower = item_t$conf.int[1],
                       ci.upper = item_t$conf.int[2])

hedges_g <- function(x, y) {
  nx <- length(x); ny <- length(y)
  sp <- sqrt(((nx - 1) * var(x) + (ny - 1) * var(y)) / (nx + ny - 2))
  (mean(x) - mean(y)) / sp * (1 - 3 / (4 * (nx + ny) - 9))
}

# -- two groups: gender (male first, as declared in ecsi_bank.yaml) --------------
g2 <- list()
for (cn in names(constructs)) {
  x <- scores[d$gender == "male", cn]; y <- scores[d$gender == "female", cn]
  tt <- t.test(x, y)                       # Welch by default
  wt <- suppressWarnings(wilcox.test(x, y))  # ties: normal approximation, continuity
  sw <- lapply(list(male = x, female = y), function(v) {
    s <- shapiro.test(v); list(W = unname(s$statistic), pvalue = s$p.value) })
  lv <- leveneTest(scores[, cn] ~ factor(d$gender), center = median)
  g2[[cn]] <- list(
    welch_t = list(statistic = unname(tt$statistic), df = unname(tt$parameter),
                   pvalue = tt$p.value, hedges_g = hedges_g(x, y)),
    mann_whitney = list(statistic = unname(wt$statistic), pvalue = wt$p.value,
                        rank_biserial = 2 * unname(wt$statistic) / (length(x) * length(y)) - 1),
    shapiro = sw,
    levene = list(statistic = lv[1, "F value"], pvalue = lv[1, "Pr(>F)"]),
    groups = list(male = list(n = length(x), mean = mean(x), sd = sd(x)),
                  female = list(n = length(y), mean = mean(y), sd = sd(y))))
}
p_t <- sapply(g2, function(r) r$welch_t$pvalue)
p_u <- sapply(g2, function(r) r$mann_whitney$pvalue)
out$gender <- g2
out$gender_holm <- list(welch_t = as.list(p.adjust(p_t, "holm")),
                        mann_whitney = as.list(p.adjust(p_u, "holm")))
out$gender_fdr <- list(welch_t = as.list(p.adjust(p_t, "BH")),
                       mann_whitney = as.list(p.adjust(p_u, "BH")))

# -- three groups: band ----------------------------------------------------------
omega2 <- function(y, g) {
  a <- anova(lm(y ~ g)); k <- nlevels(g)
  ssb <- a[1, "Sum Sq"]; ssw <- a[2, "Sum Sq"]; msw <- a[2, "Mean Sq"]
  (ssb - (k - 1) * msw) / (ssb + ssw + msw)
}
games_howell <- function(y, g) {
  lev <- levels(g); k <- length(lev); rows <- list()
  for (i in 1:(k - 1)) for (j in (i + 1):k) {
    a <- y[g == lev[i]]; b <- y[g == lev[j]]
    va <- var(a) / length(a); vb <- var(b) / length(b)
    se <- sqrt(va + vb); t <- (mean(a) - mean(b)) / se
    df <- (va + vb)^2 / (va^2 / (length(a) - 1) + vb^2 / (length(b) - 1))
    p <- ptukey(abs(t) * sqrt(2), k, df, lower.tail = FALSE)
    rows[[length(rows) + 1]] <- list(A = lev[i], B = lev[j], diff = mean(a) - mean(b),
                                     se = se, statistic = t, df = df, pvalue = p)
  }
  rows
}
g3 <- list()
band <- factor(d$band)
for (cn in names(constructs)) {
  y <- scores[, cn]
  ow <- oneway.test(y ~ band)              # Welch's ANOVA (var.equal = FALSE)
  kw <- kruskal.test(y ~ band)
  h <- unname(kw$statistic); k <- nlevels(band); n <- length(y)
  g3[[cn]] <- list(
    welch_anova = list(statistic = unname(ow$statistic), df = unname(ow$parameter[1]),
                       df2 = unname(ow$parameter[2]), pvalue = ow$p.value,
                       omega_squared = omega2(y, band)),
    kruskal_wallis = list(statistic = h, df = unname(kw$parameter), pvalue = kw$p.value,
                          eta_squared_h = (h - k + 1) / (n - k)),
    games_howell = games_howell(y, band))
}
out$band <- g3

# -- chi-square ------------------------------------------------------------------
chi <- function(a, b) {
  tab <- table(a, b)
  ct <- chisq.test(tab)                       # Yates for 2 x 2 (R's default)
  cu <- suppressWarnings(chisq.test(tab, correct = FALSE))
  list(statistic = unname(ct$statistic), df = unname(ct$parameter), pvalue = ct$p.value,
       cramers_v = sqrt(unname(cu$statistic) / (sum(tab) * (min(dim(tab)) - 1))))
}
out$chisq <- list(gender_band = chi(d$gender, d$band),
                  gender_high_sat = chi(d$gender, d$high_sat))

# -- correlations between indices ---------------------------------------------
cors <- list(); pv <- c()
cn <- names(constructs)
for (i in 1:(length(cn) - 1)) for (j in (i + 1):length(cn)) {
  ct <- cor.test(scores[, cn[i]], scores[, cn[j]])
  cors[[length(cors) + 1]] <- list(x = cn[i], y = cn[j], r = unname(ct$estimate),
                                   pvalue = ct$p.value)
  pv <- c(pv, ct$p.value)
}
adj <- p.adjust(pv, "holm")
for (i in seq_along(cors)) cors[[i]]$pvalue.adjusted <- adj[i]
out$correlations <- cors

writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/reference/compare_bank.json")
