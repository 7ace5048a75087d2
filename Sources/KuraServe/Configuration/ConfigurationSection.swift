/// A part of the configuration tree owned by one settings struct: the keys it declares
/// (with their defaults) and how it reads them.
public protocol ConfigurationSection {
    static var configurationKeys: [ConfigurationKey] { get }
    init(reading settings: SettingsReader) throws
}
