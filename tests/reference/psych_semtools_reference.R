# Reference numbers for tests/test_measurement*.py, produced by psych, semTools
# and lavaan (R).
#
# How to run (from the repository root; needs R with psych, GPArotation,
# lavaan, semTools and jsonlite):
#     Rscript tests/reference/psych_semtools_reference.R
# It writes tests/reference/measurement_<case>.json. The test suite reads those
# files and never needs R. Package versions are recorded in each file.
#
# What each number is (and which variant we match):
# - describe: psych::describe(type = 2), the skewness G1 and excess kurtosis G2
#   of SAS/SPSS/Excel (and pandas); also type = 3 (psych's default) for the record.
# - alpha: psych::alpha(check.keys = FALSE): raw_alpha, r.drop (corrected
#   item-total correlation), alpha.drop raw_alpha (alpha if item deleted).
# - feldt: the Feldt (1965) interval, evaluated with qf() below and with
#   psych::alpha.ci.
# - cfa: lavaan::cfa() with defaults (ML, marker loadings); std.all loadings,
#   latent correlations.
# - omega: semTools::compRelSEM(fit) with its defaults (tau.eq = FALSE,
#   obs.var = TRUE): (sum lambda)^2 psi / variance of the observed sum score.
# - cr: Fornell & Larcker / Raykov composite reliability from std.all loadings,
#   (sum l)^2 / ((sum l)^2 + sum(1 - l^2)).
# - ave: mean of squared std.all loadings (Fornell & Larcker 1981); semTools::AVE
#   (which weights by the item variances) is stored as ave_semtools for the record.
# - htmt: semTools::htmt(htmt2 = FALSE, absolute = TRUE), Henseler et al. (2015);
#   htmt2: semTools::htmt(htmt2 = TRUE), the geometric-mean HTMT2 of Roemer,
#   Schuberth & Henseler (2021).
# - missing: the bank data with 5% of the item cells emptied at random (seed 42,
#   written to measurement_bank_missing.csv): psych::describe and psych::alpha
#   (pairwise covariances) on it; the CFA (FIML, missing = "ml") with omega, CR and AVE.
# - kmo / bartlett: psych::KMO, psych::cortest.bartlett on the Pearson correlations.
# - eigen: eigenvalues of the correlation matrix (psych::fa.parallel's observed
#   pc.values) and of the reduced matrix with SMCs on the diagonal
#   (fa.parallel(SMC = TRUE)$fa.values).
# - parallel: psych::fa.parallel(SMC = TRUE, quant = .95, n.iter = 20) over ten
#   seeds: the suggested numbers of factors and of components.
# - fa: psych::fa(fm = "minres" | "ml", rotate = "oblimin" | "promax" |
#   "varimax"): loadings and communalities.

suppressPackageStartupMessages({
  library(psych)
  library(lavaan)
  library(semTools)
  library(jsonlite)
})

out_dir <- "tests/reference"
versions <- list(
  R = R.version.string,
  psych = as.character(packageVersion("psych")),
  GPArotation = as.character(packageVersion("GPArotation")),
  lavaan = as.character(packageVersion("lavaan")),
  semTools = as.character(packageVersion("semTools"))
)

feldt <- function(alpha, n, k, level = 0.95) {
  # Feldt (1965): (1 - alpha) / (1 - alpha_pop) ~ F(n - 1, (n - 1)(k - 1))
  a <- 1 - level
  df1 <- n - 1
  df2 <- (n - 1) * (k - 1)
  c(lower = 1 - (1 - alpha) * qf(1 - a / 2, df1, df2),
    upper = 1 - (1 - alpha) * qf(a / 2, df1, df2))
}

matrix_json <- function(m) {
  list(rows = rownames(m), cols = colnames(m), values = unname(as.matrix(m)))
}

reference <- function(case, data, blocks, efa_factors, efa_items = NULL) {
  items <- unlist(blocks, use.names = FALSE)
  x <- data[, items]

  d2 <- describe(x, type = 2)
  d3 <- describe(x, type = 3)
  describe_out <- lapply(items, function(i) list(
    item = i, n = d2[i, "n"], mean = d2[i, "mean"], sd = d2[i, "sd"],
    skew = d2[i, "skew"], kurtosis = d2[i, "kurtosis"],
    skew_type3 = d3[i, "skew"], kurtosis_type3 = d3[i, "kurtosis"]))

  alpha_out <- list()
  for (b in names(blocks)) {
    xb <- data[, blocks[[b]]]
    a <- psych::alpha(xb, check.keys = FALSE, warnings = FALSE)
    raw <- a$total$raw_alpha
    n <- sum(complete.cases(xb))
    k <- length(blocks[[b]])
    f <- feldt(raw, n, k)
    ci <- psych::alpha.ci(raw, n.obs = n, n.var = k, p.val = 0.05, digits = 10)
    alpha_out[[b]] <- list(
      items = blocks[[b]], n = n, alpha = raw,
      ci_lower = unname(f["lower"]), ci_upper = unname(f["upper"]),
      alpha_ci_psych = unlist(ci),
      r_drop = setNames(as.list(a$item.stats[blocks[[b]], "r.drop"]), blocks[[b]]),
      alpha_if_dropped = setNames(as.list(a$alpha.drop[blocks[[b]], "raw_alpha"]),
                                  blocks[[b]]))
  }

  model <- paste(sprintf("%s =~ %s", names(blocks),
                         sapply(blocks, paste, collapse = " + ")), collapse = "\n")
  fit <- cfa(model, data = data)
  std <- standardizedSolution(fit)
  pe <- parameterEstimates(fit, standardized = TRUE)
  load <- std[std$op == "=~", c("lhs", "rhs", "est.std")]
  omega <- compRelSEM(fit)
  ave_st <- AVE(fit)
  rel_out <- list()
  for (b in names(blocks)) {
    l <- load$est.std[load$lhs == b]
    rel_out[[b]] <- list(
      omega = unname(omega[b]),
      cr = sum(l)^2 / (sum(l)^2 + sum(1 - l^2)),
      ave = mean(l^2),
      ave_semtools = unname(ave_st[b]))
  }
  lv_cor <- lavInspect(fit, "cor.lv")
  ht <- htmt(model, data = data, htmt2 = FALSE, absolute = TRUE)
  ht2 <- htmt(model, data = data, htmt2 = TRUE, absolute = TRUE)

  r <- cor(x)
  kmo <- KMO(r)
  bart <- cortest.bartlett(r, n = nrow(x))
  pc_values <- eigen(r, symmetric = TRUE, only.values = TRUE)$values
  r_smc <- r
  diag(r_smc) <- smc(r)
  fa_values <- eigen(r_smc, symmetric = TRUE, only.values = TRUE)$values

  parallel <- lapply(1:10, function(s) {
    set.seed(s)
    p <- fa.parallel(x, SMC = TRUE, plot = FALSE, n.iter = 20, quant = 0.95)
    list(seed = s, nfact = p$nfact, ncomp = p$ncomp,
         fa_values = p$fa.values, pc_values = p$pc.values)
  })

  fa_out <- list()
  for (fm in c("minres", "ml")) for (rot in c("oblimin", "promax", "varimax")) {
    f <- fa(x, nfactors = efa_factors, fm = fm, rotate = rot, warnings = FALSE)
    L <- unclass(f$loadings)
    fa_out[[length(fa_out) + 1]] <- list(
      method = fm, rotation = rot, n_factors = efa_factors,
      loadings = matrix_json(L),
      unrotated_communalities = as.list(f$communality),
      phi = if (is.null(f$Phi)) NULL else matrix_json(f$Phi))
  }

  res <- list(
    case = case, versions = versions, n = nrow(x), blocks = blocks,
    describe = describe_out, alpha = alpha_out, reliability = rel_out,
    cfa_std_loadings = load, latent_cor = matrix_json(lv_cor),
    htmt = matrix_json(ht),
    htmt2 = matrix_json(ht2),
    kmo = list(overall = kmo$MSA, items = as.list(kmo$MSAi)),
    bartlett = list(chisq = bart$chisq, df = bart$df, p = bart$p.value),
    eigen = list(pc = pc_values, fa_smc = fa_values),
    eigen_gt1 = sum(pc_values > 1),
    parallel = parallel,
    fa = fa_out)
  path <- file.path(out_dir, sprintf("measurement_%s.json", case))
  writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
             path)
  cat("wrote", path, "\n")
}

bank <- read.csv("/work/shared/data/bank_satisfaction.csv")
reference("bank", bank, list(
  Image = paste0("imag", 1:5), Expectation = paste0("expe", 1:5),
  Quality = paste0("qual", 1:5), Value = paste0("val", 1:4),
  Satisfaction = paste0("sat", 1:4), Loyalty = paste0("loy", 1:4)),
  efa_factors = 3)

hs <- lavaan::HolzingerSwineford1939
reference("holzinger", hs, list(
  visual = c("x1", "x2", "x3"), textual = c("x4", "x5", "x6"),
  speed = c("x7", "x8", "x9")), efa_factors = 3)

# Missing answers: item statistics and alpha on pairwise-complete covariances.
set.seed(42)
holed <- bank
item_cols <- names(bank)[2:28]
for (col in item_cols) holed[sample(nrow(holed), round(0.05 * nrow(holed))), col] <- NA
write.csv(holed, file.path(out_dir, "measurement_bank_missing.csv"), row.names = FALSE,
          na = "")
blocks <- list(Image = paste0("imag", 1:5), Value = paste0("val", 1:4))
d2 <- describe(holed[, item_cols], type = 2)
missing_out <- list(
  versions = versions,
  describe = lapply(item_cols, function(i) list(
    item = i, n = d2[i, "n"], mean = d2[i, "mean"], sd = d2[i, "sd"],
    skew = d2[i, "skew"], kurtosis = d2[i, "kurtosis"])),
  alpha = lapply(blocks, function(items) {
    a <- psych::alpha(holed[, items], check.keys = FALSE, warnings = FALSE)
    list(items = items, alpha = a$total$raw_alpha,
         complete = sum(complete.cases(holed[, items])),
         r_drop = setNames(as.list(a$item.stats[items, "r.drop"]), items),
         alpha_if_dropped = setNames(as.list(a$alpha.drop[items, "raw_alpha"]), items))
  }))
all_blocks <- list(
  Image = paste0("imag", 1:5), Expectation = paste0("expe", 1:5),
  Quality = paste0("qual", 1:5), Value = paste0("val", 1:4),
  Satisfaction = paste0("sat", 1:4), Loyalty = paste0("loy", 1:4))
model <- paste(sprintf("%s =~ %s", names(all_blocks),
                       sapply(all_blocks, paste, collapse = " + ")), collapse = "\n")
fit <- cfa(model, data = holed, missing = "ml")  # FIML, as the suite fits the CFA when answers are missing
std <- standardizedSolution(fit)
omega <- compRelSEM(fit)
missing_out$cfa_n <- lavInspect(fit, "nobs")
missing_out$reliability <- lapply(setNames(names(all_blocks), names(all_blocks)), function(b) {
  l <- std$est.std[std$op == "=~" & std$lhs == b]
  list(omega = unname(omega[b]), cr = sum(l)^2 / (sum(l)^2 + sum(1 - l^2)), ave = mean(l^2))
})
path <- file.path(out_dir, "measurement_bank_missing.json")
writeLines(toJSON(missing_out, auto_unbox = TRUE, digits = NA, pretty = TRUE), path)
cat("wrote", path, "\n")
