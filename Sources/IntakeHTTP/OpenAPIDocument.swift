// The OpenAPI 3.1 description of the HTTP API, served at GET /api/openapi.json. The same text is
// docs/openapi.json; OpenAPITests fails when the two differ or when the document and the router
// disagree on a path or an operation.
enum OpenAPIDocument {
    static let json = #"""
        {
          "openapi": "3.1.0",
          "info": {
            "title": "Intake",
            "version": "0.8.0",
            "license": {
              "name": "Apache-2.0",
              "identifier": "Apache-2.0"
            },
            "description": "Batch data import. The four POST endpoints under /api/haplo-data-import-batch/ are wire-compatible with the original batch import API; everything else is an extension. Success answers of the batch API are text/plain with no trailing newline. Human-readable reference: docs/api.md."
          },
          "servers": [
            {
              "url": "http://127.0.0.1:8080"
            }
          ],
          "security": [
            {
              "basic": []
            }
          ],
          "tags": [
            {
              "name": "batch",
              "description": "Needs a key with the `batch` (or `all`) scope."
            },
            {
              "name": "read",
              "description": "Needs a key with the `read` (or `all`) scope."
            },
            {
              "name": "push",
              "description": "Needs a key with the `push` (or `all`) scope."
            },
            {
              "name": "operations"
            }
          ],
          "paths": {
            "/api/haplo-data-import-batch/control": {
              "post": {
                "operationId": "uploadControlFile",
                "summary": "Upload a control file",
                "tags": [
                  "batch"
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "multipart/form-data": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The control file (UTF-8 JSON)."
                          },
                          "comment": {
                            "type": "string",
                            "description": "Default `Unnamed control file`."
                          }
                        },
                        "required": [
                          "file"
                        ]
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The control file's digest (lower-case hex SHA-256).",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "413": {
                    "description": "Larger than 16 MiB, or than the upload limit.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The request was refused; the body is the one-line message (docs/api.md lists them).",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "429": {
                    "description": "Too many failed authentications from this address in the last minute.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/haplo-data-import-batch/batch": {
              "post": {
                "operationId": "createBatch",
                "summary": "Create a batch",
                "tags": [
                  "batch"
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/x-www-form-urlencoded": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "control": {
                            "type": "string",
                            "description": "A digest from uploadControlFile."
                          },
                          "comment": {
                            "type": "string",
                            "description": "Default `Unnamed batch`."
                          }
                        },
                        "required": [
                          "control"
                        ]
                      }
                    },
                    "multipart/form-data": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "control": {
                            "type": "string",
                            "description": "A digest from uploadControlFile."
                          },
                          "comment": {
                            "type": "string",
                            "description": "Default `Unnamed batch`."
                          }
                        },
                        "required": [
                          "control"
                        ]
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The new batch's id; the batch is `uploading`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The request was refused; the body is the one-line message (docs/api.md lists them).",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "429": {
                    "description": "Too many failed authentications from this address in the last minute.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/haplo-data-import-batch/file": {
              "post": {
                "operationId": "uploadFile",
                "summary": "Upload a named data file into a batch",
                "tags": [
                  "batch"
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "multipart/form-data": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "batch": {
                            "type": "string",
                            "description": "The batch id."
                          },
                          "name": {
                            "type": "string",
                            "description": "The file's name in the control file."
                          },
                          "file": {
                            "type": "string",
                            "format": "binary"
                          }
                        },
                        "required": [
                          "batch",
                          "name",
                          "file"
                        ]
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The file's digest. Uploading a name again replaces the file.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "413": {
                    "description": "Over the upload limit; nothing was kept.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "507": {
                    "description": "No room to store the upload; nothing was kept.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The request was refused; the body is the one-line message (docs/api.md lists them).",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "429": {
                    "description": "Too many failed authentications from this address in the last minute.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/haplo-data-import-batch/schedule": {
              "post": {
                "operationId": "scheduleBatch",
                "summary": "Schedule a batch, optionally as a dry run",
                "tags": [
                  "batch"
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/x-www-form-urlencoded": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "batch": {
                            "type": "string",
                            "description": "The batch id."
                          },
                          "mode": {
                            "type": "string",
                            "enum": [
                              "dry-run",
                              ""
                            ],
                            "description": "`dry-run`, or empty or absent for a real run."
                          },
                          "force": {
                            "type": "string",
                            "enum": [
                              "true",
                              "false",
                              ""
                            ],
                            "description": "`true`: a feed batch transforms every record, skipping none (docs/feeds.md)."
                          },
                          "maxErrors": {
                            "type": "string",
                            "pattern": "^[0-9]*$",
                            "description": "Extension: the batch stops once it has more errors than this (`STOPPED: …`), over the number of the control file's `errorPolicy`; empty or absent: none."
                          }
                        },
                        "required": [
                          "batch"
                        ]
                      }
                    },
                    "multipart/form-data": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "batch": {
                            "type": "string",
                            "description": "The batch id."
                          },
                          "mode": {
                            "type": "string",
                            "enum": [
                              "dry-run",
                              ""
                            ],
                            "description": "`dry-run`, or empty or absent for a real run."
                          },
                          "force": {
                            "type": "string",
                            "enum": [
                              "true",
                              "false",
                              ""
                            ],
                            "description": "`true`: a feed batch transforms every record, skipping none (docs/feeds.md)."
                          },
                          "maxErrors": {
                            "type": "string",
                            "pattern": "^[0-9]*$",
                            "description": "Extension: the batch stops once it has more errors than this (`STOPPED: …`), over the number of the control file's `errorPolicy`; empty or absent: none."
                          }
                        },
                        "required": [
                          "batch"
                        ]
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "`SCHEDULED`",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The request was refused; the body is the one-line message (docs/api.md lists them).",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "429": {
                    "description": "Too many failed authentications from this address in the last minute.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/haplo-data-import-batch/status": {
              "get": {
                "operationId": "batchStatus",
                "summary": "A batch's state and progress",
                "tags": [
                  "batch"
                ],
                "parameters": [
                  {
                    "name": "batch",
                    "in": "query",
                    "required": true,
                    "schema": {
                      "type": "string"
                    },
                    "description": "The batch id."
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The status document.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/BatchStatus"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The request was refused; the body is the one-line message (docs/api.md lists them).",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "429": {
                    "description": "Too many failed authentications from this address in the last minute.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/haplo-data-import-batch/log": {
              "get": {
                "operationId": "batchLog",
                "summary": "A batch's log (streamed)",
                "tags": [
                  "batch"
                ],
                "parameters": [
                  {
                    "name": "batch",
                    "in": "query",
                    "required": true,
                    "schema": {
                      "type": "string"
                    },
                    "description": "The batch id."
                  }
                ],
                "responses": {
                  "200": {
                    "description": "`START:` line, one line per reported message, `END:` line; ends with a newline.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The request was refused; the body is the one-line message (docs/api.md lists them).",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "429": {
                    "description": "Too many failed authentications from this address in the last minute.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/haplo-data-import-batch/results": {
              "get": {
                "operationId": "batchResults",
                "summary": "Per-record results (streamed NDJSON)",
                "tags": [
                  "batch"
                ],
                "parameters": [
                  {
                    "name": "batch",
                    "in": "query",
                    "required": true,
                    "schema": {
                      "type": "string"
                    },
                    "description": "The batch id."
                  },
                  {
                    "name": "status",
                    "in": "query",
                    "schema": {
                      "type": "array",
                      "items": {
                        "type": "string",
                        "enum": [
                          "applied",
                          "failed",
                          "unchanged",
                          "dry-run",
                          "left",
                          "not-applied"
                        ]
                      }
                    },
                    "style": "form",
                    "explode": true,
                    "description": "Only records with these statuses."
                  },
                  {
                    "name": "after",
                    "in": "query",
                    "schema": {
                      "type": "integer",
                      "minimum": 0
                    },
                    "description": "Start after this record index."
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                      "type": "integer",
                      "minimum": 0
                    },
                    "description": "At most this many lines."
                  },
                  {
                    "name": "format",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "string",
                      "enum": [
                        "original",
                        "json",
                        "csv"
                      ]
                    },
                    "description": "With `status=failed` only: the failed records as they were in the uploaded files with their errors added (`original`), or a table of record, file, line, key and errors (`json`, `csv`). See docs/api.md \"Failed records as they came\"."
                  },
                  {
                    "name": "file",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "string"
                    },
                    "description": "With `format`: the failed records of this file only. Without it, `format=original` gives a zip when several files have failures."
                  }
                ],
                "responses": {
                  "200": {
                    "description": "One JSON object per line, in input order. With `format`: the failed records, as a download (`Content-Disposition: attachment`).",
                    "content": {
                      "application/x-ndjson": {
                        "schema": {
                          "$ref": "#/components/schemas/RecordResult"
                        }
                      },
                      "application/json": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "text/csv": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "application/zip": {
                        "schema": {
                          "type": "string",
                          "format": "binary"
                        }
                      },
                      "application/xml": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "text/tab-separated-values": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The request was refused; the body is the one-line message (docs/api.md lists them).",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "429": {
                    "description": "Too many failed authentications from this address in the last minute.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/haplo-data-import-batch/cancel": {
              "post": {
                "operationId": "cancelBatch",
                "summary": "Cancel a batch that has not finished",
                "tags": [
                  "batch"
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/x-www-form-urlencoded": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "batch": {
                            "type": "string",
                            "description": "The batch id."
                          }
                        },
                        "required": [
                          "batch"
                        ]
                      }
                    },
                    "multipart/form-data": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "batch": {
                            "type": "string",
                            "description": "The batch id."
                          }
                        },
                        "required": [
                          "batch"
                        ]
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "`CANCELLED`",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The request was refused; the body is the one-line message (docs/api.md lists them).",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "429": {
                    "description": "Too many failed authentications from this address in the last minute.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/haplo-data-import-batch/copy": {
              "post": {
                "operationId": "copyBatch",
                "summary": "Copy a batch into a new uploading one",
                "tags": [
                  "batch"
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/x-www-form-urlencoded": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "batch": {
                            "type": "string",
                            "description": "The batch id."
                          }
                        },
                        "required": [
                          "batch"
                        ]
                      }
                    },
                    "multipart/form-data": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "batch": {
                            "type": "string",
                            "description": "The batch id."
                          }
                        },
                        "required": [
                          "batch"
                        ]
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The new batch id.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The request was refused; the body is the one-line message (docs/api.md lists them).",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "429": {
                    "description": "Too many failed authentications from this address in the last minute.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/haplo-data-import-batch/rollback": {
              "post": {
                "operationId": "rollBackBatch",
                "summary": "Undo a complete batch; it becomes rolled-back",
                "tags": [
                  "batch"
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/x-www-form-urlencoded": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "batch": {
                            "type": "string",
                            "description": "The batch id."
                          }
                        },
                        "required": [
                          "batch"
                        ]
                      }
                    },
                    "multipart/form-data": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "batch": {
                            "type": "string",
                            "description": "The batch id."
                          }
                        },
                        "required": [
                          "batch"
                        ]
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "`ROLLED BACK`: the batch is now `rolled-back` and its log says who rolled it back and what happened.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "409": {
                    "description": "Rolled back except the listed objects, which later changes touched.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The request was refused; the body is the one-line message (docs/api.md lists them).",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "429": {
                    "description": "Too many failed authentications from this address in the last minute.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/objects": {
              "get": {
                "operationId": "listObjects",
                "summary": "Objects in creation order",
                "tags": [
                  "read"
                ],
                "parameters": [
                  {
                    "name": "type",
                    "in": "query",
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "subtypes",
                    "in": "query",
                    "schema": {
                      "type": "boolean"
                    }
                  },
                  {
                    "name": "title",
                    "in": "query",
                    "schema": {
                      "type": "string"
                    },
                    "description": "Matches any of an object's titles exactly."
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 1000,
                      "default": 100
                    }
                  },
                  {
                    "name": "cursor",
                    "in": "query",
                    "schema": {
                      "type": "string"
                    },
                    "description": "`next` of the previous page."
                  }
                ],
                "responses": {
                  "200": {
                    "description": "`{\"objects\": [...], \"next\": cursor or null}`",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "A malformed parameter: `{\"error\": \"…\"}`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/objects/{ref}": {
              "get": {
                "operationId": "getObject",
                "summary": "One object",
                "tags": [
                  "read"
                ],
                "parameters": [
                  {
                    "name": "ref",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The object.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Object"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "Not found: `{\"error\": \"…\"}`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "A malformed parameter: `{\"error\": \"…\"}`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/objects/{ref}/history": {
              "get": {
                "operationId": "getObjectHistory",
                "summary": "Every version of an object, oldest first",
                "tags": [
                  "read"
                ],
                "parameters": [
                  {
                    "name": "ref",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "`{\"versions\": [{\"version\", \"batch\", \"saved\", \"attributes\"}]}`",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "Not found: `{\"error\": \"…\"}`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "A malformed parameter: `{\"error\": \"…\"}`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/schema": {
              "get": {
                "operationId": "getSchema",
                "summary": "The schema in use",
                "tags": [
                  "read"
                ],
                "responses": {
                  "200": {
                    "description": "Attributes, qualifiers and types.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "A malformed parameter: `{\"error\": \"…\"}`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/models": {
              "get": {
                "operationId": "listModels",
                "summary": "Every model",
                "tags": [
                  "read"
                ],
                "responses": {
                  "200": {
                    "description": "Models with their destinations and names.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "A malformed parameter: `{\"error\": \"…\"}`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/models/{name}": {
              "get": {
                "operationId": "getModel",
                "summary": "One model",
                "tags": [
                  "read"
                ],
                "parameters": [
                  {
                    "name": "name",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The model.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "Not found: `{\"error\": \"…\"}`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "A malformed parameter: `{\"error\": \"…\"}`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/dictionaries/{model}/{destination}": {
              "get": {
                "operationId": "listDictionaryDocuments",
                "summary": "Saved dictionary targets in commit order",
                "tags": [
                  "read"
                ],
                "parameters": [
                  {
                    "name": "model",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "destination",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "batch",
                    "in": "query",
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "`{\"documents\": [{\"batch\", \"record\", \"values\"}]}`",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "Not found: `{\"error\": \"…\"}`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "A malformed parameter: `{\"error\": \"…\"}`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/batches": {
              "get": {
                "operationId": "listBatches",
                "summary": "Batches, newest first",
                "tags": [
                  "read"
                ],
                "parameters": [
                  {
                    "name": "state",
                    "in": "query",
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                      "type": "integer"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "`{\"batches\": [status documents]}`",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {
                            "batches": {
                              "type": "array",
                              "items": {
                                "$ref": "#/components/schemas/BatchStatus"
                              }
                            }
                          }
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "A malformed parameter: `{\"error\": \"…\"}`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/health": {
              "get": {
                "operationId": "health",
                "summary": "Liveness",
                "tags": [
                  "operations"
                ],
                "security": [],
                "responses": {
                  "200": {
                    "description": "`OK` while the database answers; the `Intake-Version` header gives the version.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "503": {
                    "description": "The database does not answer.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/ready": {
              "get": {
                "operationId": "ready",
                "summary": "Readiness",
                "tags": [
                  "operations"
                ],
                "security": [],
                "responses": {
                  "200": {
                    "description": "Ready to take uploads and run batches.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "503": {
                    "description": "Not ready, and why.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/health/ready": {
              "get": {
                "operationId": "healthReady",
                "summary": "Readiness (the same as /ready)",
                "tags": [
                  "operations"
                ],
                "security": [],
                "responses": {
                  "200": {
                    "description": "`READY`; the `Intake-Version` header gives the version.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "503": {
                    "description": "Not ready, and why.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/metrics": {
              "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics",
                "tags": [
                  "operations"
                ],
                "security": [
                  {
                    "basic": []
                  },
                  {}
                ],
                "responses": {
                  "200": {
                    "description": "Prometheus text format. Needs a `read` key when the server runs with `--metrics-auth`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/openapi.json": {
              "get": {
                "operationId": "openAPI",
                "summary": "This document",
                "tags": [
                  "operations"
                ],
                "security": [],
                "responses": {
                  "200": {
                    "description": "OpenAPI 3.1.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/haplo-data-import-batch/approve": {
              "post": {
                "operationId": "approveBatch",
                "summary": "Let a held feed batch go on (docs/feeds.md)",
                "tags": [
                  "batch"
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/x-www-form-urlencoded": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "batch": {
                            "type": "string",
                            "description": "The batch id."
                          }
                        },
                        "required": [
                          "batch"
                        ]
                      }
                    },
                    "multipart/form-data": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "batch": {
                            "type": "string",
                            "description": "The batch id."
                          }
                        },
                        "required": [
                          "batch"
                        ]
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "`APPROVED`: the run continues where it was held.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The request was refused; the body is the one-line message (docs/api.md lists them).",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "429": {
                    "description": "Too many failed authentications from this address in the last minute.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/feeds": {
              "get": {
                "operationId": "listFeeds",
                "summary": "Feeds, by name",
                "tags": [
                  "read"
                ],
                "parameters": [],
                "responses": {
                  "200": {
                    "description": "`{\"feeds\": [feeds]}`",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {
                            "feeds": {
                              "type": "array",
                              "items": {
                                "$ref": "#/components/schemas/Feed"
                              }
                            }
                          }
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "A malformed parameter: `{\"error\": \"…\"}`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/feeds/{name}": {
              "get": {
                "operationId": "getFeed",
                "summary": "One feed",
                "tags": [
                  "read"
                ],
                "parameters": [
                  {
                    "name": "name",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The feed.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Feed"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "A malformed parameter: `{\"error\": \"…\"}`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "No such feed: `{\"error\": \"Feed not found: NAME\"}`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/feeds/{name}/keys": {
              "get": {
                "operationId": "listFeedKeys",
                "summary": "The keys a feed remembers, in (file, key) order",
                "tags": [
                  "read"
                ],
                "parameters": [
                  {
                    "name": "name",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "state",
                    "in": "query",
                    "schema": {
                      "type": "string",
                      "enum": [
                        "active",
                        "left"
                      ]
                    }
                  },
                  {
                    "name": "after",
                    "in": "query",
                    "description": "`FILE/KEY`: start after this key (the `next` of the previous page).",
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                      "type": "integer"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "`{\"keys\": [...], \"next\": \"FILE/KEY\" or null}`",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {
                            "keys": {
                              "type": "array",
                              "items": {
                                "$ref": "#/components/schemas/FeedKey"
                              }
                            },
                            "next": {
                              "type": [
                                "string",
                                "null"
                              ]
                            }
                          }
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "A malformed parameter: `{\"error\": \"…\"}`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "No such feed: `{\"error\": \"Feed not found: NAME\"}`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/haplo-data-import-batch/deliveries": {
              "get": {
                "operationId": "batchDeliveries",
                "summary": "The webhook deliveries of a batch's events, with every attempt (extension; docs/feeds.md \"Webhooks\")",
                "tags": [
                  "batch"
                ],
                "parameters": [
                  {
                    "name": "batch",
                    "in": "query",
                    "required": true,
                    "schema": {
                      "type": "string"
                    },
                    "description": "The batch id."
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The batch's deliveries, oldest first.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {
                            "deliveries": {
                              "type": "array",
                              "items": {
                                "type": "object",
                                "properties": {
                                  "delivery": {
                                    "type": "string",
                                    "description": "Unique; the body's `delivery` and the `Intake-Delivery` header."
                                  },
                                  "webhook": {
                                    "type": "string"
                                  },
                                  "url": {
                                    "type": "string"
                                  },
                                  "event": {
                                    "type": "string",
                                    "enum": [
                                      "batch.finished",
                                      "batch.held"
                                    ]
                                  },
                                  "batchState": {
                                    "type": "string",
                                    "description": "The batch's state at the event; `rolled-back` for a rollback."
                                  },
                                  "created": {
                                    "type": "string",
                                    "format": "date-time"
                                  },
                                  "state": {
                                    "type": "string",
                                    "enum": [
                                      "pending",
                                      "delivered",
                                      "failed"
                                    ]
                                  },
                                  "nextAttempt": {
                                    "type": [
                                      "string",
                                      "null"
                                    ],
                                    "format": "date-time"
                                  },
                                  "attempts": {
                                    "type": "array",
                                    "items": {
                                      "type": "object",
                                      "properties": {
                                        "at": {
                                          "type": "string",
                                          "format": "date-time"
                                        },
                                        "status": {
                                          "type": [
                                            "integer",
                                            "null"
                                          ],
                                          "description": "The HTTP status answered; null when there was no answer."
                                        },
                                        "error": {
                                          "type": [
                                            "string",
                                            "null"
                                          ],
                                          "description": "Why there was no answer (such as `no answer within 10 s`)."
                                        },
                                        "milliseconds": {
                                          "type": "integer"
                                        }
                                      }
                                    }
                                  }
                                }
                              }
                            }
                          }
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The request was refused; the body is the one-line message (docs/api.md lists them).",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "429": {
                    "description": "Too many failed authentications from this address in the last minute.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/haplo-data-import-batch/rollback-preview": {
              "get": {
                "operationId": "rollbackPreview",
                "summary": "What a rollback would do now, changing nothing (extension)",
                "tags": [
                  "batch"
                ],
                "parameters": [
                  {
                    "name": "batch",
                    "in": "query",
                    "required": true,
                    "schema": {
                      "type": "string"
                    },
                    "description": "The batch id."
                  }
                ],
                "responses": {
                  "200": {
                    "description": "Counts, and the first `listLimit` entries of each list.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {
                            "delete": {
                              "type": "array",
                              "items": {
                                "type": "string"
                              },
                              "description": "Refs of objects the batch created."
                            },
                            "deleteCount": {
                              "type": "integer"
                            },
                            "restore": {
                              "type": "array",
                              "items": {
                                "type": "object",
                                "properties": {
                                  "ref": {
                                    "type": "string"
                                  },
                                  "version": {
                                    "type": "integer",
                                    "description": "The version it would go back to."
                                  }
                                },
                                "required": [
                                  "ref",
                                  "version"
                                ]
                              }
                            },
                            "restoreCount": {
                              "type": "integer"
                            },
                            "conflicts": {
                              "type": "array",
                              "items": {
                                "type": "string"
                              },
                              "description": "Refs a later change touched; left alone."
                            },
                            "conflictCount": {
                              "type": "integer"
                            },
                            "feedKeys": {
                              "type": "array",
                              "items": {
                                "type": "string"
                              },
                              "description": "`FILE/KEY` of the feed keys whose memory would be restored."
                            },
                            "feedKeyCount": {
                              "type": "integer"
                            },
                            "listLimit": {
                              "type": "integer"
                            }
                          },
                          "required": [
                            "delete",
                            "deleteCount",
                            "restore",
                            "restoreCount",
                            "conflicts",
                            "conflictCount",
                            "feedKeys",
                            "feedKeyCount",
                            "listLimit"
                          ]
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The request was refused; the body is the one-line message (docs/api.md lists them).",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/haplo-data-import-batch/retry": {
              "post": {
                "operationId": "retryFailedRecords",
                "summary": "A new uploading batch holding exactly the failed records of a finished batch (extension)",
                "tags": [
                  "batch"
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/x-www-form-urlencoded": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "batch": {
                            "type": "string",
                            "description": "The batch id."
                          }
                        },
                        "required": [
                          "batch"
                        ]
                      }
                    },
                    "multipart/form-data": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "batch": {
                            "type": "string",
                            "description": "The batch id."
                          }
                        },
                        "required": [
                          "batch"
                        ]
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The new batch id; its comment ends with ` (retry of failed records)`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The request was refused; the body is the one-line message (docs/api.md lists them).",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover this path: `Forbidden`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "429": {
                    "description": "Too many failed authentications from this address in the last minute.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/push-data/{name}": {
              "post": {
                "operationId": "pushData",
                "summary": "Runs a push API's control file over the body, synchronously, as a batch (docs/push-apis.md)",
                "tags": [
                  "push"
                ],
                "parameters": [
                  {
                    "name": "name",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "pattern": "^[a-z0-9-]+$"
                    },
                    "description": "The push API's URL name."
                  }
                ],
                "requestBody": {
                  "required": true,
                  "description": "The record(s), in the format the control file reads (its file `body`); at most the API's body limit (1 MiB unless set).",
                  "content": {
                    "application/json": {
                      "schema": {}
                    },
                    "application/xml": {
                      "schema": {
                        "type": "string"
                      }
                    },
                    "text/csv": {
                      "schema": {
                        "type": "string"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "`result` `success`: every record applied. JSON or XML, as the API is set to answer. The header `Intake-Batch` names the batch the call was recorded as.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/PushResponse"
                        }
                      },
                      "application/xml": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "`failure` (a record could not be applied), `error` (an exception: `Exception when processing: …`; an unknown API: `API not defined: NAME`, always JSON; a disabled one: `API is disabled: NAME`).",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/PushResponse"
                        }
                      },
                      "application/xml": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No API key, or an unknown or revoked one: `Unauthorized`, with `WWW-Authenticate: Basic realm=\"Intake\"`.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "The key's scope does not cover push APIs: `result` `not authorised`, in JSON.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/PushResponse"
                        }
                      }
                    }
                  },
                  "413": {
                    "description": "The body is over the API's limit: `Request body too large: push API NAME takes at most N bytes`; nothing is kept.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              },
              "get": {
                "operationId": "pushDataGet",
                "summary": "Refused, as the original refused it",
                "tags": [
                  "push"
                ],
                "parameters": [
                  {
                    "name": "name",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "pattern": "^[a-z0-9-]+$"
                    },
                    "description": "The push API's URL name."
                  }
                ],
                "responses": {
                  "400": {
                    "description": "`{\"result\": \"error\", …, \"errors\": [\"Only POST requests supported for push data REST APIs.\"]}` (no `actions`).",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/PushResponse"
                        }
                      }
                    }
                  }
                }
              }
            }
          },
          "components": {
            "securitySchemes": {
              "basic": {
                "type": "http",
                "scheme": "basic",
                "description": "Any user name (scripts use `haplo`); the password is an API key."
              }
            },
            "schemas": {
              "Error": {
                "type": "object",
                "properties": {
                  "error": {
                    "type": "string"
                  }
                },
                "required": [
                  "error"
                ]
              },
              "BatchStatus": {
                "type": "object",
                "required": [
                  "identifier",
                  "state",
                  "comment",
                  "control",
                  "dryRun",
                  "files",
                  "progress",
                  "errors"
                ],
                "properties": {
                  "identifier": {
                    "type": "string"
                  },
                  "state": {
                    "type": "string",
                    "enum": [
                      "uploading",
                      "ready",
                      "scheduled",
                      "running",
                      "complete",
                      "dry-run",
                      "error",
                      "cancelled",
                      "held",
                      "rolled-back"
                    ]
                  },
                  "comment": {
                    "type": "string"
                  },
                  "control": {
                    "type": "string"
                  },
                  "dryRun": {
                    "type": "boolean"
                  },
                  "created": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "format": "date-time"
                  },
                  "scheduled": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "format": "date-time"
                  },
                  "started": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "format": "date-time"
                  },
                  "finished": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "format": "date-time"
                  },
                  "files": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "name": {
                          "type": "string"
                        },
                        "digest": {
                          "type": "string"
                        },
                        "size": {
                          "type": "integer"
                        },
                        "filename": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "progress": {
                    "type": "object",
                    "properties": {
                      "recordsRead": {
                        "type": "integer"
                      },
                      "recordsApplied": {
                        "type": "integer"
                      },
                      "recordsFailed": {
                        "type": "integer"
                      },
                      "recordsUnchanged": {
                        "type": "integer"
                      },
                      "bytesRead": {
                        "type": "integer"
                      },
                      "bytesTotal": {
                        "type": "integer"
                      },
                      "recordsSkipped": {
                        "type": "integer",
                        "description": "Feed records not transformed because nothing could have changed."
                      },
                      "recordsLeft": {
                        "type": "integer",
                        "description": "Leavers of a snapshot feed applied (or, in a dry run, that would be)."
                      },
                      "recordsNotApplied": {
                        "type": "integer",
                        "description": "Records and leavers of an all-or-nothing batch that would have been applied, when it applied nothing."
                      }
                    }
                  },
                  "errors": {
                    "type": "integer"
                  },
                  "purged": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "format": "date-time",
                    "description": "When `intake purge` removed the batch's files, log and results; null before."
                  },
                  "feed": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "The feed the batch belongs to (docs/feeds.md)."
                  },
                  "summary": {
                    "type": "object",
                    "properties": {
                      "destinations": {
                        "type": "object",
                        "additionalProperties": {
                          "type": "object",
                          "properties": {
                            "created": {
                              "type": "integer"
                            },
                            "updated": {
                              "type": "integer"
                            },
                            "unchanged": {
                              "type": "integer"
                            },
                            "deleted": {
                              "type": "integer"
                            }
                          }
                        }
                      },
                      "skipped": {
                        "type": "integer"
                      },
                      "left": {
                        "type": "integer"
                      },
                      "failed": {
                        "type": "integer"
                      }
                    }
                  },
                  "held": {
                    "oneOf": [
                      {
                        "type": "object",
                        "properties": {
                          "reason": {
                            "type": "string",
                            "enum": [
                              "leavers",
                              "record-count"
                            ]
                          },
                          "count": {
                            "type": "integer"
                          },
                          "of": {
                            "type": "integer"
                          },
                          "limit": {
                            "type": "string"
                          }
                        }
                      },
                      {
                        "type": "null"
                      }
                    ],
                    "description": "Why a `held` batch waits for approval."
                  }
                }
              },
              "RecordResult": {
                "type": "object",
                "required": [
                  "record",
                  "file",
                  "status",
                  "changes",
                  "errors"
                ],
                "properties": {
                  "record": {
                    "type": "string"
                  },
                  "file": {
                    "type": "string"
                  },
                  "line": {
                    "type": "integer"
                  },
                  "status": {
                    "type": "string",
                    "enum": [
                      "applied",
                      "failed",
                      "unchanged",
                      "dry-run",
                      "left",
                      "not-applied"
                    ]
                  },
                  "changes": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "kind": {
                          "type": "string"
                        },
                        "destination": {
                          "type": "string"
                        },
                        "ref": {
                          "type": "string"
                        },
                        "new": {
                          "type": "boolean"
                        }
                      }
                    }
                  },
                  "errors": {
                    "type": "array",
                    "items": {
                      "type": "string"
                    }
                  },
                  "key": {
                    "type": "string",
                    "description": "`FILE/KEY` on every line of a feed batch."
                  },
                  "skipped": {
                    "type": "boolean",
                    "description": "A feed record not transformed: nothing could have changed."
                  },
                  "leaver": {
                    "type": "boolean",
                    "description": "A key that left a snapshot feed."
                  }
                }
              },
              "Object": {
                "type": "object",
                "required": [
                  "ref",
                  "title",
                  "version",
                  "created",
                  "updated",
                  "attributes"
                ],
                "properties": {
                  "ref": {
                    "type": "string"
                  },
                  "type": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "title": {
                    "type": "string"
                  },
                  "version": {
                    "type": "integer"
                  },
                  "created": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "updated": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "attributes": {
                    "type": "object",
                    "additionalProperties": {
                      "type": "array",
                      "items": {
                        "type": "object",
                        "required": [
                          "type"
                        ],
                        "properties": {
                          "type": {
                            "type": "string"
                          },
                          "qualifier": {
                            "type": "string"
                          }
                        }
                      }
                    }
                  },
                  "deleted": {
                    "type": "boolean",
                    "description": "Present (true) only on an object a feed leaver deleted: lists and lookups no longer find it."
                  }
                }
              },
              "Feed": {
                "type": "object",
                "properties": {
                  "name": {
                    "type": "string"
                  },
                  "activeKeys": {
                    "type": "integer"
                  },
                  "leftKeys": {
                    "type": "integer"
                  },
                  "lastBatch": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "lastState": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "lastSummary": {
                    "oneOf": [
                      {
                        "type": "object",
                        "properties": {
                          "destinations": {
                            "type": "object",
                            "additionalProperties": {
                              "type": "object",
                              "properties": {
                                "created": {
                                  "type": "integer"
                                },
                                "updated": {
                                  "type": "integer"
                                },
                                "unchanged": {
                                  "type": "integer"
                                },
                                "deleted": {
                                  "type": "integer"
                                }
                              }
                            }
                          },
                          "skipped": {
                            "type": "integer"
                          },
                          "left": {
                            "type": "integer"
                          },
                          "failed": {
                            "type": "integer"
                          }
                        }
                      },
                      {
                        "type": "null"
                      }
                    ]
                  }
                }
              },
              "FeedKey": {
                "type": "object",
                "properties": {
                  "file": {
                    "type": "string"
                  },
                  "key": {
                    "type": "string"
                  },
                  "state": {
                    "type": "string",
                    "enum": [
                      "active",
                      "left"
                    ]
                  },
                  "firstSeen": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "lastChanged": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "lastBatch": {
                    "type": "string"
                  },
                  "objects": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "destination": {
                          "type": "string"
                        },
                        "ref": {
                          "type": "string"
                        },
                        "version": {
                          "type": "integer"
                        }
                      }
                    }
                  }
                }
              },
              "PushResponse": {
                "type": "object",
                "description": "A push API's answer, as the original's REST APIs for data push wrote it (pretty-printed with four spaces).",
                "properties": {
                  "result": {
                    "type": "string",
                    "enum": [
                      "success",
                      "failure",
                      "error",
                      "not authorised"
                    ]
                  },
                  "applied": {
                    "type": "integer",
                    "description": "Records applied (saved or found unchanged)."
                  },
                  "failures": {
                    "type": "integer",
                    "description": "Records that could not be applied."
                  },
                  "errorCount": {
                    "type": "integer"
                  },
                  "errors": {
                    "type": "array",
                    "items": {
                      "type": "string"
                    }
                  },
                  "actions": {
                    "type": "array",
                    "description": "One per record: the objects it saved.",
                    "items": {
                      "type": "object",
                      "properties": {
                        "changed": {
                          "type": "array",
                          "items": {
                            "type": "object",
                            "properties": {
                              "kind": {
                                "type": "string",
                                "const": "object:save"
                              },
                              "destination": {
                                "type": "string"
                              },
                              "ref": {
                                "type": "string"
                              },
                              "new": {
                                "type": "boolean"
                              }
                            }
                          }
                        },
                        "record": {
                          "type": "string",
                          "description": "The record's identifier, as in the batch's results."
                        }
                      }
                    }
                  }
                },
                "required": [
                  "result",
                  "applied",
                  "failures",
                  "errorCount",
                  "errors"
                ]
              }
            }
          }
        }
        """#
}
