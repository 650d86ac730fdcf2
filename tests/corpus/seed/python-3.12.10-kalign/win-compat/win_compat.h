/* stand-in for the compat header the Windows build includes */
