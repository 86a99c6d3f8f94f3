"""What a user does to runs: launch, observe, steer, recover, purge, schedules, cost."""
