# Reference numbers for the inequality constraints between parameters in
# tests/test_model_syntax.py: lavaan's 'a > b', 'a + b < 1', '2*a > b' and
# 'b < a - 0.1' (nlminb.constr), single group, and 'a1 > a2' on a loading labelled
# per group with c(a1, a2). A binding constraint is treated as an equality in the
# standard errors (lavaan's constrained information); df are not changed by it.
# Also a bound 'a > 0.8' that holds under missing = "ml", single group and by school.
#
# How to run (from the repository root; needs R with lavaan and jsonlite):
#     Rscript tests/reference/lavaan_inequality.R
# It writes tests/reference/lavaan_inequality.json; the tests never need R.

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

measures <- c("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic",
              "logl")
base <- "visual =~ x1 + a*x2 + b*x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
groups <- "visual =~ x1 + c(a1, a2)*x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
bound <- "visual =~ x1 + a*x2 + x3\ntextual =~ x4 + x5 + x6\na > 0.8"

dump <- function(fit) {
  pe <- parameterEstimates(fit)
  pe <- pe[!(pe$op %in% c("<", ">", "==")), ]
  pe$group_label <- if (lavInspect(fit, "ngroups") > 1)
    lavInspect(fit, "group.label")[pe$group] else ""
  list(converged = lavInspect(fit, "converged"),
       fit = as.list(fitMeasures(fit, measures)),
       parameters = pe[, c("lhs", "op", "rhs", "group_label", "est", "se")])
}

cases <- list(
  greater = list(model = paste(base, "a > b", sep = "\n"), binds = TRUE),
  sum_below = list(model = paste(base, "a + b < 1", sep = "\n"), binds = TRUE),
  scaled_inactive = list(model = paste(base, "2*a > b", sep = "\n"), binds = FALSE),
  shifted = list(model = paste(base, "b < a - 0.1", sep = "\n"), binds = TRUE),
  groups = list(model = paste(groups, "a1 > a2", sep = "\n"), group = "school", binds = TRUE),
  # a bound held under full-information ML (x2 deleted in every ninth row): the
  # held loading has no SE, the others' come from the observed information without it
  fiml_bound = list(model = bound, missing = "ml", binds = FALSE, held = 1),
  fiml_bound_groups = list(model = bound, missing = "ml", group = "school", binds = FALSE,
                           held = 1),
  # inequality constraints between parameters under missing = "ml"
  fiml_greater = list(model = paste(base, "a > b", sep = "\n"), missing = "ml", binds = TRUE),
  fiml_groups = list(model = paste(groups, "a1 > a2", sep = "\n"), missing = "ml",
                     group = "school", binds = TRUE))
hs_x2 <- HolzingerSwineford1939
hs_x2$x2[seq(1, nrow(hs_x2), by = 9)] <- NA
res <- list(lavaan_version = as.character(packageVersion("lavaan")))
for (name in names(cases)) {
  case <- cases[[name]]
  args <- list(model = case$model, data = HolzingerSwineford1939)
  if (!is.null(case$missing)) args <- list(model = case$model, data = hs_x2, missing = "ml")
  if (!is.null(case$group)) args$group <- case$group
  fit <- do.call("cfa", args)
  res$cases[[name]] <- c(list(model = case$model, group = if (is.null(case$group)) NA else
                                case$group, missing = if (is.null(case$missing)) "listwise"
                              else "fiml", binds = case$binds,
                              held = if (is.null(case$held)) 0 else case$held),
                         dump(fit))
}
write_json(res, "tests/reference/lavaan_inequality.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
