import Foundation
import IntakeStore

/// One row of a files table (new batch, edit files) as the template shows it.
struct FileRowView: Sendable {
    /// A file kept from an earlier, refused submission.
    struct Kept: Sendable {
        var token: String
        var filename: String
        var size: [String: String]
    }
    var index: Int
    var name: String
    var kept: Kept?
    var nameError: String?

    init(_ row: FileRow, index: Int) {
        (self.index, name, nameError) = (index, row.name, row.nameError)
        kept = row.kept.map { Kept(token: $0.token, filename: $0.filename, size: Format.sizeContext($0.size)) }
    }

    static func rows(_ rows: [FileRow]) -> [FileRowView] { rows.enumerated().map { FileRowView($1, index: $0) } }
}

/// The files table of the new-batch and edit-files forms (`{{#files}}{{> file-rows}}{{/files}}`).
struct FileTable: Sendable {
    var rows: [FileRowView]
    var rowCount: Int
    /// The names the control file lists, offered in each row.
    var names: [String]
    var hasKept: Bool
    /// Which names are used twice, when any are.
    var duplicates: String?

    init(rows: [FileRow], names: [String], duplicates: String?) {
        self.rows = FileRowView.rows(rows)
        rowCount = rows.count
        hasKept = rows.contains { $0.kept != nil }
        (self.names, self.duplicates) = (names, duplicates)
    }
}

/// The new-batch form of a control file: comment and files.
struct NewBatchPage: Sendable, FormPageModel {
    var cid: Int64
    var controlComment: String
    var shortDigest: String
    var digest: String
    var comment: String
    var files: FileTable
    var formErrors: FormErrors

    init(_ record: ControlFileRecord, comment: String, files: FileTable, errors: FormErrors) {
        (cid, controlComment, digest, shortDigest) = (record.id, record.comment, record.digest.hex, Format.short(record.digest.hex))
        (self.comment, self.files, formErrors) = (comment, files, errors)
    }
}

/// The form that changes a ready batch's files.
struct EditFilesPage: Sendable, FormPageModel {
    var batchID: String
    var files: FileTable
    var formErrors: FormErrors
}

/// The documents shipped with Intake, and one of them.
struct DocsPage: Sendable {
    struct Document: Sendable {
        var slug: String
        var title: String
        var path: String
    }
    var documents: [Document]
}

struct DocPage: Sendable {
    /// The document as HTML, made from the shipped Markdown (not user input).
    var html: String
    var path: String
}

/// The sign-in form: where to go after it, the name typed, and why it is shown again.
struct SignInPage: Sendable {
    var next: String
    var username: String = ""
    var notice: String?
    var error: String?
}

/// A page whose template needs nothing but what every page has (the sign-out question).
struct EmptyPage: Sendable {}
