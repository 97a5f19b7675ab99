"""salesforce"""
