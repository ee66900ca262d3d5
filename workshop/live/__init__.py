"""The way out to the screens: numbered change messages, fan-out, snapshots and live
connections. It knows no domain module; the domain hands it what to send."""
