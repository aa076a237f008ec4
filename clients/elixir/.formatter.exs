# SPDX-License-Identifier: BSD-3-Clause
[inputs: ["{mix,.formatter}.exs", "{lib,test,bench}/**/*.{ex,exs}"], line_length: 100]
