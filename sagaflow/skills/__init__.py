"""Skills: discovery, registration, prompts and preparing a launch."""
