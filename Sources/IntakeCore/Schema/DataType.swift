/// The data types of docs/control-files.md#data-types, shared by attributes and dictionary Names.
package enum DataType: String, Sendable, CaseIterable, Codable {
    case text
    case textParagraph = "text-paragraph"
    case textMultiline = "text-multiline"
    case textDocument = "text-document"
    case datetime
    case boolean
    case integer
    case number
    case ref
    case objectType = "object-type"
    case json
    case emailAddress = "email-address"
    case url
    case telephoneNumber = "telephone-number"
    case configurationName = "configuration-name"
    case isbn
    case personName = "person-name"
    case postalAddress = "postal-address"
    case file
    case postcode
    case plugin

    /// Schema files say `link` for what models call `ref`.
    package init?(schemaName: String) {
        if schemaName == "link" { self = .ref } else { self.init(rawValue: schemaName) }
    }
}
