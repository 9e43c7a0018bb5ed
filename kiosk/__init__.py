"""The Kivy touchscreen app: one screen per .kv file, presenters and i18n (zh_CN first, en)."""
