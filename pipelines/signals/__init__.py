"""The signal job: feedback that acts while it matters (rules over silver, commands out)."""
