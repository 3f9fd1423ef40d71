# COINr's build of the bench's files, timed inside R: the side of the bench the engine is
# measured against (bench/coinr.py launches it; COINr 1.1.14 in COINR_LIB).
#   Rscript bench/coinr_run.R iMeta.csv iData.csv out_dir panel|year none|coinr
# panel: new_coin(split_to = "all") -> Normalise(global = TRUE) -> Aggregate (a purse);
# year:  new_coin -> [Treat] -> Normalise -> Aggregate (one coin).
# Writes out_dir/scores_wide.csv (uCode, [Time], every code, 17 significant digits) and
# out_dir/timing.json (read, build and write seconds).
.libPaths(c(Sys.getenv("COINR_LIB"), .libPaths()))
args <- commandArgs(trailingOnly = TRUE)
meta_path <- args[1]; data_path <- args[2]; out_dir <- args[3]
mode <- args[4]; treat <- args[5]
suppressPackageStartupMessages(library(COINr))
t0 <- Sys.time()
iMeta <- read.csv(meta_path, stringsAsFactors = FALSE, na.strings = c("NA", ""))
iData <- read.csv(data_path, stringsAsFactors = FALSE, na.strings = "NA")
# The framework's group and denominator rows name iData columns the generated data lacks.
iMeta <- iMeta[iMeta$Type %in% c("Indicator", "Aggregate") | iMeta$iCode %in% names(iData), ]
t1 <- Sys.time()
if (mode == "panel") {
  x <- new_coin(iData, iMeta, split_to = "all", quietly = TRUE)
  x <- Normalise(x, dset = "Raw", global = TRUE)
  x <- Aggregate(x, dset = "Normalised")
} else {
  x <- new_coin(iData, iMeta, quietly = TRUE)
  dset <- "Raw"
  if (treat == "coinr") {
    x <- Treat(x, dset = "Raw")
    dset <- "Treated"
  }
  x <- Normalise(x, dset = dset)
  x <- Aggregate(x, dset = "Normalised")
}
t2 <- Sys.time()
scores <- get_dset(x, dset = "Aggregated")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
write.csv(format(scores, digits = 17), file.path(out_dir, "scores_wide.csv"),
          row.names = FALSE, quote = FALSE)
t3 <- Sys.time()
secs <- function(a, b) as.numeric(difftime(b, a, units = "secs"))
writeLines(sprintf('{"read_s": %.4f, "build_s": %.4f, "write_s": %.4f}',
                   secs(t0, t1), secs(t1, t2), secs(t2, t3)),
           file.path(out_dir, "timing.json"))
