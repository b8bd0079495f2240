# Reference numbers for the weighted factor-analytic measurement (satisfaction.reliability,
# satisfaction.efa; tests/test_measurement_weights.py): respondent weights in the CFA,
# the reliabilities, the validity criteria and the EFA.
#
# - cfa: lavaan 0.6's cfa(..., sampling.weights = "w") (ML on the weighted moments, or
#   with missing = "ml" the weighted casewise likelihood); std.all loadings, latent
#   correlations (lavInspect "cor.lv"); omega = semTools::compRelSEM(fit) with its
#   defaults (obs.var = TRUE: the denominator is the weighted sample (or EM) covariance
#   lavaan holds as "sampstat"); CR and AVE from std.all (Fornell & Larcker 1981).
# - alpha: psych::alpha on the weighted item covariance matrix, cov.wt(x, wt)$cov with
#   missing answers pair by pair: cov.wt on the respondents who answered both items
#   (R's cov(use = "pairwise") when every weight is 1); raw_alpha, alpha.drop's
#   raw_alpha, item.stats' r.drop. The Feldt interval with qf on the Kish effective n
#   (sum w)^2 / sum w^2 of the respondents who answered every item of the construct.
# - htmt: semTools::htmt(model, sample.cov = cov.wt(x, wt)$cov), htmt2 = FALSE and TRUE,
#   on the respondents who answered every item.
# - items: svymean and svyvar (svydesign(ids = ~1, weights = ~w)) of each item on the
#   respondents who answered it.
# - efa: psych::fa(x, weight = w) (psych correlates with cor.wt), fm minres and ml,
#   rotations oblimin, promax, varimax; KMO(cor.wt(x, w)$r); cortest.bartlett on that
#   matrix with n = the Kish effective n; eigenvalues of the weighted correlation matrix
#   and of it with SMCs on the diagonal.
# Cases
#   bank          the shared bank survey, the ECSI measurement model, the raking weights
#                 of tests/reference/survey_weights.R (gender 0.5/0.5, segment A 0.3 /
#                 B 0.3 / C 0.4 by respondent number), complete answers
#   bank_missing  the same with the answers removed as in lavaan_fiml_weights.R (sat2 of
#                 respondents whose number is a multiple of 7, qual3 of 11, loy1 of 13),
#                 the CFA by weighted FIML
#   bfi           psych's bfi (tests/reference/bfi_raw.csv) with its missing answers,
#                 A1, C4, C5, E1, E2 reversed (7 - x), blocks A, C, E, and the weight
#                 w = (1.5 if gender == 1 else 0.75) * (1 + ((row - 1) %% 5) / 4)
#                 (row = the 1-based row of the file); the CFA by weighted FIML; the EFA
#                 on the respondents who answered all 25 items, 5 factors
# Run: Rscript tests/reference/lavaan_cfa_weights.R  (writes lavaan_cfa_weights.json)
suppressPackageStartupMessages({
  library(lavaan); library(semTools); library(psych); library(survey); library(jsonlite)
})
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))

source(file.path(here, "raked_bank.R"))  # bank with its raked weights w
bank_blocks <- list(
  Image = paste0("imag", 1:5), Expectation = paste0("expe", 1:5),
  Quality = paste0("qual", 1:5), Value = paste0("val", 1:4),
  Satisfaction = paste0("sat", 1:4), Loyalty = paste0("loy", 1:4))
holed <- bank
holed$sat2[num %% 7 == 0] <- NA
holed$qual3[num %% 11 == 0] <- NA
holed$loy1[num %% 13 == 0] <- NA

bfi <- read.csv(file.path(here, "bfi_raw.csv"))
row <- seq_len(nrow(bfi))
bfi$w <- ifelse(bfi$gender == 1, 1.5, 0.75) * (1 + ((row - 1) %% 5) / 4)
for (item in c("A1", "C4", "C5", "E1", "E2")) bfi[[item]] <- 7 - bfi[[item]]
bfi_blocks <- list(A = paste0("A", 1:5), C = paste0("C", 1:5), E = paste0("E", 1:5))

# weighted covariance pair by pair: cov.wt on the respondents who answered both items
pairwise_cov_wt <- function(x, w) {
  p <- ncol(x)
  out <- matrix(NA_real_, p, p, dimnames = list(colnames(x), colnames(x)))
  for (i in seq_len(p)) for (j in seq_len(p)) {
    ok <- !is.na(x[, i]) & !is.na(x[, j])
    out[i, j] <- cov.wt(as.matrix(x[ok, c(i, j)]), wt = w[ok])$cov[1, 2]
  }
  out
}
kish_n <- function(w) sum(w)^2 / sum(w^2)
feldt <- function(alpha, n, k, level = 0.95) {
  a <- 1 - level
  c(lower = 1 - (1 - alpha) * qf(a / 2, n - 1, (n - 1) * (k - 1), lower.tail = FALSE),
    upper = 1 - (1 - alpha) * qf(1 - a / 2, n - 1, (n - 1) * (k - 1), lower.tail = FALSE))
}
matrix_json <- function(m) list(rows = rownames(m), cols = colnames(m), values = unname(m))

measurement <- function(data, blocks, missing) {
  items <- unlist(blocks, use.names = FALSE)
  x <- data[, items]
  w <- data$w
  alpha_out <- list()
  for (b in names(blocks)) {
    xb <- x[, blocks[[b]]]
    C <- pairwise_cov_wt(xb, w)
    a <- psych::alpha(C, check.keys = FALSE, warnings = FALSE)
    raw <- a$total$raw_alpha
    complete <- complete.cases(xb)
    neff <- kish_n(w[complete])
    f <- feldt(raw, neff, length(blocks[[b]]))
    alpha_out[[b]] <- list(
      n = sum(complete), effective_n = neff, alpha = raw,
      ci_lower = unname(f["lower"]), ci_upper = unname(f["upper"]),
      r_drop = as.list(setNames(a$item.stats[blocks[[b]], "r.drop"], blocks[[b]])),
      alpha_if_dropped = as.list(setNames(a$alpha.drop[blocks[[b]], "raw_alpha"],
                                          blocks[[b]])))
  }
  item_out <- lapply(items, function(i) {
    d <- svydesign(ids = ~1, weights = ~w, data = data[!is.na(data[[i]]), ])
    f <- as.formula(paste0("~", i))
    list(item = i, mean = unname(coef(svymean(f, d))), var = unname(coef(svyvar(f, d))[1]))
  })
  model <- paste(sprintf("%s =~ %s", names(blocks),
                         sapply(blocks, paste, collapse = " + ")), collapse = "\n")
  fit <- cfa(model, data = data, sampling.weights = "w",
             missing = if (missing) "ml" else "listwise")
  std <- standardizedSolution(fit)
  load <- std[std$op == "=~", c("lhs", "rhs", "est.std")]
  omega <- compRelSEM(fit)
  rel_out <- list()
  for (b in names(blocks)) {
    l <- load$est.std[load$lhs == b]
    rel_out[[b]] <- list(omega = unname(omega[b]),
                         cr = sum(l)^2 / (sum(l)^2 + sum(1 - l^2)), ave = mean(l^2))
  }
  complete <- complete.cases(x)
  S <- cov.wt(x[complete, ], wt = w[complete])$cov
  ht <- htmt(model, sample.cov = S, htmt2 = FALSE, absolute = TRUE)
  ht2 <- htmt(model, sample.cov = S, htmt2 = TRUE, absolute = TRUE)
  list(blocks = blocks, alpha = alpha_out, items = item_out,
       loadings = data.frame(construct = load$lhs, item = load$rhs, std.all = load$est.std),
       fit = as.list(fitMeasures(fit, c("chisq", "chisq.scaled", "cfi.robust",
                                        "rmsea.robust", "srmr"))),
       reliability = rel_out, latent_cor = matrix_json(lavInspect(fit, "cor.lv")),
       htmt = matrix_json(ht), htmt2 = matrix_json(ht2))
}

efa_case <- function(x, w, nfactors) {
  r <- cor.wt(x, w = w)$r
  neff <- kish_n(w)
  kmo <- KMO(r)
  bart <- cortest.bartlett(r, n = neff)
  r_smc <- r
  diag(r_smc) <- smc(r)
  fas <- list()
  for (fm in c("minres", "ml")) for (rot in c("oblimin", "promax", "varimax")) {
    f <- fa(x, nfactors = nfactors, fm = fm, rotate = rot, weight = w, warnings = FALSE)
    fas[[length(fas) + 1]] <- list(
      method = fm, rotation = rot,
      loadings = matrix_json(unclass(f$loadings)),
      communalities = as.list(f$communality),
      phi = if (is.null(f$Phi)) NULL else matrix_json(f$Phi))
  }
  list(items = colnames(x), n = nrow(x), effective_n = neff,
       correlation = matrix_json(r),
       kmo = list(overall = kmo$MSA, items = as.list(kmo$MSAi)),
       bartlett = list(chisq = bart$chisq, df = bart$df, p = bart$p.value),
       eigen = list(pc = eigen(r, symmetric = TRUE, only.values = TRUE)$values,
                    fa_smc = eigen(r_smc, symmetric = TRUE, only.values = TRUE)$values),
       fa = fas)
}

bank_items <- unlist(bank_blocks, use.names = FALSE)
bfi_items <- names(bfi)[1:25]
bfi_complete <- bfi[complete.cases(bfi[, bfi_items]), ]
out <- list(
  versions = list(lavaan = as.character(packageVersion("lavaan")),
                  semTools = as.character(packageVersion("semTools")),
                  psych = as.character(packageVersion("psych"))),
  weights = bank$w,
  bank = measurement(bank, bank_blocks, FALSE),
  bank_missing = measurement(holed, bank_blocks, TRUE),
  bfi = measurement(bfi, bfi_blocks, TRUE),
  efa_bank = efa_case(bank[, bank_items], bank$w, 3),
  efa_bfi = efa_case(bfi_complete[, bfi_items], bfi_complete$w, 5))
write_json(out, file.path(here, "lavaan_cfa_weights.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
