"""City-scale benchmarks: data generator, load runner, health-check sweep (`make bench`)."""
