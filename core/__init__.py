"""The ground floor (issue 16's layout): what every other folder may import and which imports
nothing of the project. Modules: vocabulary (the terms of the statistics)."""
